import type { ServiceSchema } from "moleculer";

/** A minimal stand-in for identity's `users` service, for auth tests that are not about profiles. */
export const FakeUsers = {
	name: "users",
	actions: {
		createProfile: {
			visibility: "public",
			handler: (ctx: { params: { id: string; name: string } }) => ({ id: ctx.params.id, name: ctx.params.name }),
		},
		getProfile: { visibility: "public", handler: (ctx: { params: { id: string } }) => ({ id: ctx.params.id }) },
	},
} as unknown as ServiceSchema;
