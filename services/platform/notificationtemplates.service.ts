/**
 * Notification templates per tenant (README, "Platform: notifications" → "Templates"), at
 * `/api/notifications/templates` (tenant admins):
 * - the platform's own messages (password reset, lead assigned, new follower, mention, comment) are built
 *   in (`lib/templates.ts`); a tenant overrides any channel's part of them, or deletes its override to get
 *   the default back. Their variables and category are fixed.
 * - a tenant may add messages of its own (a key, a category, the variables its senders pass, the parts).
 *
 * Every save compiles the parts in Liquid's strict mode and checks every variable they use: a template
 * that does not compile, or names a variable its message does not have, is refused with 422 and the line
 * and column of each problem; nothing is stored. `resolve` (internal, cached per tenant) gives the
 * effective template to the senders.
 */
import { appUrl, config } from "../../lib/config";
import { asSystem, type Ctx, type Meta } from "../../lib/context";
import { InvalidInputError, InvalidTemplateError, NotFoundError, ConflictError } from "../../lib/errors";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import {
	BUILTIN_TEMPLATES,
	CHANNELS,
	checkParts,
	PART_FIELDS,
	renderPart,
	type Category,
	type Channel,
	type Parts,
	type TemplateDefinition,
} from "../../lib/templates";
import { TenantDbMixin, type TenantDbMethods } from "../../mixins/tenant.mixin";
import { categoryParam, channelsParam, templateKeyParam, varsParam } from "./common";

export interface EffectiveTemplate extends TemplateDefinition {
	builtIn: boolean;
	overridden: boolean;
	updatedAt: string | null;
}

interface StoredTemplate {
	id: string;
	key: string;
	category: Category;
	channels: Channel[];
	variables: string[];
	parts: Parts;
	updatedAt: string;
}

type PutParams = {
	key: string;
	category?: Category;
	channels?: Channel[];
	variables?: string[];
} & Parts;

/** Every field is optional here: a built-in's override may give some; a message of one's own needs all (checkParts). */
const partParams = (channel: Channel) => ({
	type: "object",
	optional: true,
	strict: true,
	props: Object.fromEntries(Object.entries(PART_FIELDS[channel]).map(([field, max]) => [field, { type: "string", max, optional: true }])),
});

/** The template a tenant's senders get: its own, a built-in with its overrides, or the built-in. */
export function effective(builtin: TemplateDefinition | undefined, stored: StoredTemplate | undefined): EffectiveTemplate | null {
	if (builtin) {
		// An override replaces the fields it gives; the others stay the built-in's.
		const parts: Parts = { ...builtin.parts };
		for (const c of CHANNELS) if (stored?.parts?.[c]) (parts as Record<string, unknown>)[c] = { ...builtin.parts[c], ...stored.parts[c] };
		const channels = stored?.channels?.length ? builtin.channels.filter(c => stored.channels.includes(c)) : builtin.channels;
		return { ...builtin, parts, channels, builtIn: true, overridden: !!stored, updatedAt: stored?.updatedAt ?? null };
	}
	if (!stored) return null;
	return {
		key: stored.key,
		category: stored.category,
		channels: stored.channels,
		variables: stored.variables,
		lateVariables: [],
		parts: stored.parts,
		builtIn: false,
		overridden: false,
		updatedAt: stored.updatedAt,
	};
}

function mergeParts(base: Parts, over: Parts): Parts {
	const out: Parts = { ...base };
	for (const c of CHANNELS) if (over[c]) (out as Record<string, unknown>)[c] = { ...base[c], ...over[c] };
	return out;
}

interface TemplatesMethods extends TenantDbMethods {
	stored(ctx: Ctx<unknown> | { meta: Meta }, key: string): Promise<StoredTemplate | undefined>;
	/** The built-in messages with the platform-wide overrides (NOTIFY_PLATFORM_TENANT_ID's) applied. */
	builtins(): Promise<Record<string, TemplateDefinition>>;
	view(key: string, stored: StoredTemplate | undefined, builtins: Record<string, TemplateDefinition>): EffectiveTemplate;
}
const NotificationTemplatesService: ServiceSchema<DbSettings, TemplatesMethods> = {
	name: "notificationtemplates",
	mixins: [TenantDbMixin({ collection: "notification_templates", indexes: [{ fields: ["tenantId", "key"], unique: true }] })],
	settings: {
		rest: "/notifications/templates",
		fields: ["id", "key", "category", "channels", "variables", "parts", "updatedAt"],
	},

	actions: {
		listTemplates: {
			rest: "GET /",
			auth: "required",
			roles: ["admin"],
			summary: "Every message this tenant can send: the built-in ones (with your overrides) and your own.",
			params: { $$strict: true },
			async handler(ctx: Ctx) {
				const own = await this._find<StoredTemplate>(ctx, { query: {}, sort: ["key"], limit: 1000 });
				const byKey = new Map(own.map(t => [t.key, t]));
				const keys = [...new Set([...Object.keys(BUILTIN_TEMPLATES), ...byKey.keys()])].sort();
				const builtins = await this.builtins();
				const rows = keys.map(k => this.view(k, byKey.get(k), builtins));
				return { rows, total: rows.length };
			},
		},
		getTemplate: {
			rest: "GET /:key",
			auth: "required",
			roles: ["admin"],
			summary: "One message's effective template.",
			params: { $$strict: true, key: templateKeyParam },
			async handler(ctx: Ctx<{ key: string }>) {
				const stored = await this.stored(ctx, ctx.params.key);
				if (!stored && !BUILTIN_TEMPLATES[ctx.params.key]) throw new NotFoundError("No such template.", ctx.params.key);
				return this.view(ctx.params.key, stored, await this.builtins());
			},
		},
		saveTemplate: {
			rest: "PUT /:key",
			auth: "required",
			roles: ["admin"],
			idempotent: true,
			summary:
				"Override a built-in message's parts, or save a message of your own. Refused with 422 (and the line) when a part does not compile or uses a variable the message does not have.",
			params: {
				$$strict: true,
				key: templateKeyParam,
				category: { ...categoryParam, optional: true },
				channels: { ...channelsParam, optional: true },
				variables: {
					type: "array",
					optional: true,
					max: 50,
					unique: true,
					items: { type: "string", max: 64, pattern: /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/ },
				},
				inApp: partParams("inApp"),
				email: partParams("email"),
				push: partParams("push"),
			},
			async handler(ctx: Ctx<PutParams>) {
				const { key } = ctx.params;
				const builtin = BUILTIN_TEMPLATES[key];
				const parts: Parts = {};
				for (const c of CHANNELS) if (ctx.params[c]) (parts as Record<string, unknown>)[c] = ctx.params[c];
				const issues: { field: string; message: string }[] = [];
				if (!Object.keys(parts).length) issues.push({ field: "inApp", message: "give at least one channel's part (inApp, email, push)" });
				if (builtin) {
					if (ctx.params.variables) issues.push({ field: "variables", message: `are fixed for the built-in message '${key}'` });
					if (ctx.params.category && ctx.params.category !== builtin.category)
						issues.push({ field: "category", message: `is '${builtin.category}' for the built-in message '${key}'` });
					for (const c of Object.keys(parts) as Channel[])
						if (!builtin.channels.includes(c)) issues.push({ field: c, message: `the built-in message '${key}' is not sent by ${c}` });
					for (const c of ctx.params.channels ?? [])
						if (!builtin.channels.includes(c))
							issues.push({ field: "channels", message: `the built-in message '${key}' is not sent by ${c}` });
				} else {
					if (!ctx.params.category) issues.push({ field: "category", message: "is required for a message of your own" });
					if (!parts.inApp)
						issues.push({ field: "inApp", message: "is required for a message of your own (it is what the notification list shows)" });
					for (const c of ctx.params.channels ?? []) if (!parts[c]) issues.push({ field: "channels", message: `no ${c} part is given` });
				}
				if (issues.length) throw new InvalidInputError("The template is not valid.", issues);
				const def = builtin ?? { variables: ctx.params.variables ?? [], lateVariables: [] };
				const problems = checkParts(parts, def, !!builtin);
				if (problems.length) throw new InvalidTemplateError(problems);

				const existing = await this.stored(ctx, key);
				const entity = {
					key,
					category: builtin?.category ?? ctx.params.category!,
					channels: ctx.params.channels ?? (builtin ? [] : (Object.keys(parts) as Channel[])),
					variables: builtin ? [] : (ctx.params.variables ?? []),
					// An override replaces the fields it gives: the stored ones it does not mention stay.
					parts: builtin ? mergeParts(existing?.parts ?? {}, parts) : parts,
				};
				let saved: StoredTemplate;
				if (existing) saved = await this._update<StoredTemplate>(ctx, { id: existing.id, ...entity });
				else {
					try {
						saved = await this._create<StoredTemplate>(ctx, entity);
					} catch (err) {
						if (!(err instanceof ConflictError)) throw err;
						const again = await this.stored(ctx, key);
						saved = await this._update<StoredTemplate>(ctx, { id: again!.id, ...entity });
					}
				}
				return this.view(key, saved, await this.builtins());
			},
		},
		removeTemplate: {
			rest: "DELETE /:key",
			auth: "required",
			roles: ["admin"],
			summary: "Delete a message of your own, or your override of a built-in one (its default applies again).",
			params: { $$strict: true, key: templateKeyParam },
			async handler(ctx: Ctx<{ key: string }>) {
				const stored = await this.stored(ctx, ctx.params.key);
				if (!stored) throw new NotFoundError("No such template.", ctx.params.key);
				await this._remove(ctx, { id: stored.id });
				ctx.meta.$statusCode = 204;
				return null;
			},
		},
		preview: {
			rest: "POST /:key/preview",
			auth: "required",
			roles: ["admin"],
			summary: "Render a message with sample variables, as a recipient would see it.",
			params: { $$strict: true, key: templateKeyParam, vars: varsParam },
			async handler(ctx: Ctx<{ key: string; vars: Record<string, unknown> }>) {
				const stored = await this.stored(ctx, ctx.params.key);
				const tpl = effective((await this.builtins())[ctx.params.key], stored);
				if (!tpl) throw new NotFoundError("No such template.", ctx.params.key);
				const late = Object.fromEntries((tpl.lateVariables ?? []).map(v => [v, `{${v}}`]));
				const vars = {
					recipient: { id: "preview", name: "Ada Lovelace" },
					app: { name: "Valence", url: appUrl(config()) },
					...late,
					...ctx.params.vars,
				};
				const out: Record<string, unknown> = {};
				for (const c of tpl.channels) {
					const part = tpl.parts[c] as Record<string, string> | undefined;
					if (!part) continue;
					try {
						out[c] = renderPart(c, part, vars);
					} catch (err) {
						throw new InvalidInputError("These variables do not render the template.", [
							{ field: `vars`, message: `${c}: ${(err as Error).message}` },
						]);
					}
				}
				return out;
			},
		},
		resolve: {
			visibility: "public",
			idempotent: true,
			summary:
				"The effective template of a message: the tenant's (the caller's, else `forTenant`) over the platform-wide override over the built-in, or null.",
			cache: { keys: ["#user.tenantId", "key", "forTenant"] },
			params: { $$strict: true, key: templateKeyParam, forTenant: { type: "string", max: 64, optional: true, nullable: true } },
			async handler(ctx: Ctx<{ key: string; forTenant?: string | null }>) {
				// A tenant-scoped caller gets its own tenant's; `forTenant` is for a caller without a tenant (a message
				// without one, written in the recipient's tenant's words: README, "Templates").
				const tenantId = ctx.meta.user ? ctx.meta.user.tenantId : (ctx.params.forTenant ?? null);
				const stored = tenantId ? await this.stored(ctx.meta.user ? ctx : asSystem(tenantId), ctx.params.key) : undefined;
				return effective((await this.builtins())[ctx.params.key], stored);
			},
		},
	},

	methods: {
		async stored(ctx: Ctx<unknown>, key: string) {
			const [row] = await this._find<StoredTemplate>(ctx, { query: { key }, limit: 1 });
			return row;
		},
		async builtins() {
			const platform = config().NOTIFY_PLATFORM_TENANT_ID;
			if (!platform) return BUILTIN_TEMPLATES;
			const rows = await this._find<StoredTemplate>(asSystem(platform), {
				query: { key: { $in: Object.keys(BUILTIN_TEMPLATES) } },
				limit: 100,
			});
			if (!rows.length) return BUILTIN_TEMPLATES;
			const out = { ...BUILTIN_TEMPLATES };
			for (const row of rows) {
				const layered = effective(BUILTIN_TEMPLATES[row.key], row)!;
				out[row.key] = { ...BUILTIN_TEMPLATES[row.key], parts: layered.parts, channels: layered.channels };
			}
			return out;
		},
		view(key: string, stored: StoredTemplate | undefined, builtins: Record<string, TemplateDefinition>) {
			return effective(builtins[key], stored)!;
		},
	},
};

export default NotificationTemplatesService;
