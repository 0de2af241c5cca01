/**
 * A sample tenant-scoped CRUD service: what a domain service built on the db and tenant mixins looks
 * like. Members read and write their tenant's notes; only admins delete.
 */
import { currentUser, type Ctx } from "../../lib/context";
import { pageParams } from "../../lib/paging";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { idParam } from "../../lib/validation";
import { removeByIdAction, TenantDbMixin, type TenantDbMethods } from "../../mixins/tenant.mixin";

export interface Note {
	id: string;
	slug: string;
	title: string;
	body: string;
	createdBy: string;
	createdAt: string;
	updatedAt: string;
}

const id = idParam;

const NotesService: ServiceSchema<DbSettings, TenantDbMethods> = {
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
				...pageParams,
				sort: { type: "enum", values: ["createdAt", "-createdAt", "title", "-title"], default: "-createdAt" },
				$$strict: "remove",
			},
			handler(ctx: Ctx<{ page: number; pageSize: number; sort: string }>) {
				// Only what this action declares reaches the store (README, "Conventions every service follows").
				const { page, pageSize, sort } = ctx.params;
				return this._list(ctx, { page, pageSize, sort });
			},
		},
		getNote: {
			rest: "GET /:id",
			roles: ["member"],
			cache: { keys: ["#user.tenantId", "id"] },
			params: { id, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
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
			async handler(ctx: Ctx<{ slug: string; title: string; body: string }>) {
				const { slug, title, body } = ctx.params;
				const note = await this._create<Note>(ctx, { slug, title, body, createdBy: currentUser(ctx).id });
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/notes/${note.id}`;
				return note;
			},
		},
		updateNote: {
			rest: "PATCH /:id",
			roles: ["member"],
			params: {
				id,
				title: { type: "string", min: 1, max: 200, trim: true, optional: true },
				body: { type: "string", max: 10_000, optional: true },
				$$strict: "remove",
			},
			handler(ctx: Ctx<{ id: string; title?: string; body?: string }>) {
				const { id, title, body } = ctx.params;
				return this._update(ctx, { id, ...(title !== undefined && { title }), ...(body !== undefined && { body }) });
			},
		},
		deleteNote: removeByIdAction({ roles: ["admin"] }),
	},
};

export default NotesService;
