/**
 * A tiny sample service: a cached public read, a per-user read and an internal counter. The cluster
 * tests and benchmarks use it; domain services follow the same shape.
 */
import { currentUser, type Ctx } from "../../lib/context";
import type { ServiceSchema, ServiceSettingSchema } from "../../lib/schema";

interface GreeterVars {
	served: number;
}

const GreeterService: ServiceSchema<ServiceSettingSchema, object, GreeterVars> = {
	name: "greeter",
	actions: {
		hello: {
			rest: "GET /hello",
			auth: "public",
			summary: "A cached greeting.",
			cache: { keys: [] },
			params: { $$strict: "remove" },
			handler() {
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
			handler(ctx: Ctx<{ name: string }>) {
				this.served++;
				return { message: `Welcome, ${ctx.params.name}!` };
			},
		},
		me: {
			rest: "GET /me",
			auth: "required",
			summary: "Who the token says you are.",
			params: { $$strict: "remove" },
			handler(ctx: Ctx) {
				this.served++;
				return { user: currentUser(ctx) };
			},
		},
		stats: {
			visibility: "public",
			idempotent: true,
			params: {},
			handler() {
				return { served: this.served };
			},
		},
	},
	created() {
		this.served = 0;
	},
};

export default GreeterService;
