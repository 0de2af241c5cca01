/**
 * A tiny sample service: a cached public read, a per-user read and an internal counter. The cluster
 * tests and benchmarks use it; domain services follow the same shape.
 */
import type { Context } from "moleculer";
import type { AuthUser } from "../../lib/access";
import type { Schema } from "../../lib/schema";

interface GreeterThis {
	served: number;
}

const GreeterService: Schema<GreeterThis> = {
	name: "greeter",
	actions: {
		hello: {
			rest: "GET /hello",
			auth: "public",
			summary: "A cached greeting.",
			cache: { keys: [] },
			params: { $$strict: "remove" },
			handler(this: GreeterThis) {
				this.served++;
				return { message: "Hello from Valence" };
			},
		},
		welcome: {
			rest: "GET /welcome/:name",
			auth: "public",
			summary: "A cached greeting by name.",
			cache: { keys: ["name"] },
			params: { name: { type: "string", min: 1, max: 64, trim: true }, $$strict: "remove" },
			handler(this: GreeterThis, ctx: Context<{ name: string }>) {
				this.served++;
				return { message: `Welcome, ${ctx.params.name}!` };
			},
		},
		me: {
			rest: "GET /me",
			auth: "required",
			summary: "Who the token says you are.",
			params: { $$strict: "remove" },
			handler(this: GreeterThis, ctx: Context<unknown, { user: AuthUser }>) {
				this.served++;
				return { user: ctx.meta.user };
			},
		},
		stats: {
			visibility: "public",
			idempotent: true,
			params: {},
			handler(this: GreeterThis) {
				return { served: this.served };
			},
		},
	},
	created(this: GreeterThis) {
		this.served = 0;
	},
};

export default GreeterService;
