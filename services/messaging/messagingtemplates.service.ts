/**
 * Reusable outbound messages per app (README, "Messaging domain" → "Templates"): text with variables,
 * quick replies, buttons, media, and for WhatsApp the approved template (name, language, body
 * parameters) it stands for. Checked at save time (./template-content.ts); sent with
 * `POST /api/messaging/conversations/:id/messages { templateId, vars }`.
 */
import { currentUser, type Ctx } from "../../lib/context";
import { InvalidInputError, NotFoundError } from "../../lib/errors";
import { pageParams } from "../../lib/paging";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { removeByIdAction, TenantDbMixin, type Row, type TenantDbMethods } from "../../mixins/tenant.mixin";
import { idParam } from "./common";
import { checkTemplate, type TemplateDef } from "./template-content";

const liquid = (max: number) => ({ type: "string", min: 1, max }) as const;
const templateParams = {
	name: { type: "string", min: 1, max: 64, pattern: /^[a-z0-9][a-z0-9_-]*$/ },
	variables: { type: "array", max: 20, default: [], items: { type: "string", max: 64, pattern: /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$/i } },
	text: { ...liquid(2000), optional: true, nullable: true },
	quickReplies: {
		type: "array",
		max: 13,
		optional: true,
		nullable: true,
		items: { type: "object", strict: "remove", props: { title: liquid(100), payload: { type: "string", min: 1, max: 1000 } } },
	},
	buttons: {
		type: "array",
		max: 3,
		optional: true,
		nullable: true,
		items: {
			type: "object",
			strict: "remove",
			props: {
				type: { type: "enum", values: ["postback", "url"] },
				title: liquid(100),
				payload: { type: "string", max: 1000, optional: true },
				url: { type: "url", max: 2048, optional: true },
			},
		},
	},
	media: {
		type: "object",
		optional: true,
		nullable: true,
		strict: "remove",
		props: { type: { type: "enum", values: ["image", "video", "audio", "file"] }, url: { type: "url", max: 2048 } },
	},
	whatsapp: {
		type: "object",
		optional: true,
		nullable: true,
		strict: "remove",
		props: {
			name: { type: "string", min: 1, max: 512, pattern: /^[a-z0-9_]+$/ },
			language: { type: "string", min: 2, max: 15 },
			parameters: { type: "array", max: 20, default: [], items: liquid(1000) },
		},
	},
} as const;

type TemplateRow = Row & TemplateDef & { appId: string };

interface TemplatesMethods extends TenantDbMethods {
	check(def: TemplateDef): void;
	templateOr404(ctx: Ctx<unknown>, id: string): Promise<TemplateRow>;
}

const TemplatesService: ServiceSchema<DbSettings, TemplatesMethods> = {
	name: "messagingtemplates",
	mixins: [TenantDbMixin({ collection: "messaging_templates", indexes: [{ fields: ["tenantId", "appId", "name"], unique: true }] })],
	settings: {
		rest: "/messaging/templates",
		fields: ["id", "appId", "name", "variables", "text", "quickReplies", "buttons", "media", "whatsapp", "createdBy", "createdAt", "updatedAt"],
	},
	actions: {
		listTemplates: {
			rest: "GET /",
			roles: ["member"],
			params: { ...pageParams, appId: { ...idParam, optional: true }, $$strict: "remove" },
			handler(ctx: Ctx<{ page: number; pageSize: number; appId?: string }>) {
				const { page, pageSize, appId } = ctx.params;
				return this._list(ctx, { query: appId ? { appId } : {}, page, pageSize, sort: "name" });
			},
		},
		getTemplate: {
			rest: "GET /:id",
			roles: ["member"],
			params: { id: idParam, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this._get(ctx, { id: ctx.params.id });
			},
		},
		createTemplate: {
			rest: "POST /",
			roles: ["admin"],
			params: { appId: idParam, ...templateParams, $$strict: "remove" },
			async handler(ctx: Ctx<TemplateDef & { appId: string }>) {
				await ctx.call("messagingapps.getApp", { id: ctx.params.appId });
				this.check(ctx.params);
				const template = await this._create<{ id: string }>(ctx, { ...ctx.params, createdBy: currentUser(ctx).id });
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/messaging/templates/${template.id}`;
				return template;
			},
		},
		updateTemplate: {
			rest: "PUT /:id",
			roles: ["admin"],
			summary: "Replace the template (the app stays).",
			params: { id: idParam, ...templateParams, $$strict: "remove" },
			async handler(ctx: Ctx<TemplateDef & { id: string }>) {
				await this.templateOr404(ctx, ctx.params.id);
				this.check(ctx.params);
				const { id, ...def } = ctx.params;
				return this._update(ctx, { id, text: null, quickReplies: null, buttons: null, media: null, whatsapp: null, ...def });
			},
		},
		deleteTemplate: removeByIdAction({ roles: ["admin"] }),
		forSend: {
			visibility: "public",
			summary: "A template to render (internal: messagingmessages and flows).",
			params: { id: idParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				return this.toEntity(await this.templateOr404(ctx, ctx.params.id));
			},
		},
	},
	methods: {
		check(def: TemplateDef) {
			const issues = checkTemplate(def);
			def.buttons?.forEach((b, i) => {
				if (b.type === "url" && !("url" in b && b.url)) issues.push({ field: `buttons[${i}].url`, message: "a url button needs its url" });
				if (b.type === "postback" && !("payload" in b && b.payload))
					issues.push({ field: `buttons[${i}].payload`, message: "a postback button needs its payload" });
			});
			if (issues.length) throw new InvalidInputError("The template is not valid.", issues);
		},
		async templateOr404(ctx: Ctx<unknown>, id: string) {
			const row = await this.scopedFindById<TemplateRow>(ctx, id);
			if (!row) throw new NotFoundError("No such template.", id);
			return row;
		},
	},
};

export default TemplatesService;
