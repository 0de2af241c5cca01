/**
 * A sample tenant-scoped CRUD service: what a domain service built on the db and tenant mixins looks
 * like. Members read and write their tenant's notes; only admins delete.
 */
import type { Context } from "moleculer";
import type { Schema } from "../../lib/schema";
import { TenantDbMixin, type TenantDbMethods } from "../../mixins/tenant.mixin";

type Ctx<P = Record<string, unknown>> = Context<P, Record<string, unknown>>;

type NotesThis = TenantDbMethods;

const NotesService: Schema<NotesThis> = {
	name: "notes",
	mixins: [TenantDbMixin({ collection: "notes", indexes: [{ fields: ["tenantId", "slug"], unique: true }] })],
	settings: {
		fields: ["id", "slug", "title", "body", "createdBy", "createdAt", "updatedAt"],
	},
	actions: {
		listNotes: {
			rest: "GET /",
			roles: ["member"],
			cache: { keys: ["#user.tenantId", "page", "pageSize", "sort"] },
			params: {
				page: { type: "number", integer: true, min: 1, default: 1, convert: true },
				pageSize: { type: "number", integer: true, min: 1, max: 100, default: 20, convert: true },
				sort: { type: "enum", values: ["createdAt", "-createdAt", "title", "-title"], default: "-createdAt" },
				$$strict: "remove",
			},
			handler(this: NotesThis, ctx: Ctx<{ page: number; pageSize: number; sort: string }>) {
				// Only what this action declares reaches the store (README, "Conventions every service follows").
				const { page, pageSize, sort } = ctx.params;
				return this._list(ctx, { page, pageSize, sort });
			},
		},
		getNote: {
			rest: "GET /:id",
			roles: ["member"],
			cache: { keys: ["#user.tenantId", "id"] },
			params: { id: "string|min:1|max:64", $$strict: "remove" },
			handler(this: NotesThis, ctx: Ctx<{ id: string }>) {
				return this._get(ctx, { id: ctx.params.id });
			},
		},
		createNote: {
			rest: "POST /",
			roles: ["member"],
			params: {
				slug: { type: "string", min: 1, max: 64, pattern: /^[a-z0-9-]+$/ },
				title: { type: "string", min: 1, max: 200, trim: true },
				body: { type: "string", max: 10_000, default: "" },
			},
			async handler(this: NotesThis, ctx: Ctx<{ slug: string; title: string; body: string }>) {
				const { slug, title, body } = ctx.params;
				const user = ctx.meta.user as { id: string };
				ctx.meta.$statusCode = 201;
				return this._create(ctx, { slug, title, body, createdBy: user.id });
			},
		},
		updateNote: {
			rest: "PATCH /:id",
			roles: ["member"],
			params: {
				id: "string|min:1|max:64",
				title: { type: "string", min: 1, max: 200, trim: true, optional: true },
				body: { type: "string", max: 10_000, optional: true },
				$$strict: "remove",
			},
			handler(this: NotesThis, ctx: Ctx<{ id: string; title?: string; body?: string }>) {
				const { id, title, body } = ctx.params;
				return this._update(ctx, { id, ...(title !== undefined && { title }), ...(body !== undefined && { body }) });
			},
		},
		deleteNote: {
			rest: "DELETE /:id",
			roles: ["admin"],
			params: { id: "string|min:1|max:64" },
			async handler(this: NotesThis, ctx: Ctx<{ id: string }>) {
				await this._remove(ctx, { id: ctx.params.id });
				ctx.meta.$statusCode = 204;
				return null;
			},
		},
	},
};

export default NotesService;
