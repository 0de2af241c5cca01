/**
 * Lead capture from outside (web forms) and what authenticates it.
 *
 * - `POST /api/public/leads/:tenantSlug` (public, rate-limited): the form posts the lead with its
 *   tenant's ingest key in the `X-Ingest-Key` header (server-to-server callers; the gateway hands it
 *   over as `ctx.meta.headers`) or in the body field `ingestKey` (works from any HTML form or fetch
 *   without a CORS preflight). The header wins when both are present.
 * - Admins manage keys under `/api/leads/ingest-keys` (only a SHA-256 of the key is stored; the key
 *   is shown once) and the tenant's public slug under `/api/leads/settings`.
 *
 * One collection, two kinds of rows: `kind: "key"` (ingest keys) and `kind: "slug"` (the tenant's
 * slug; unique across tenants, one per tenant). Every query names its kind.
 */
import { createHash, randomBytes } from "node:crypto";
import { asSystem, currentTenantUser, type Ctx } from "../../lib/context";
import { InvalidIngestKeyError, CaptureSlugTakenError, ConflictError } from "../../lib/errors";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { entityOf } from "../../middlewares/entity.middleware";
import { TenantDbMixin, type Row, type TenantDbMethods } from "../../mixins/tenant.mixin";
import { idParam } from "./common";
import { leadInputParams, type LeadInput } from "./lead-model";

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const slugParam = {
	type: "string",
	min: 3,
	max: 63,
	pattern: /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/,
	messages: { stringPattern: "must be lowercase letters, digits and inner hyphens" },
} as const;

/** One row of this collection: an ingest key (`kind: "key"`) or the tenant's slug (`kind: "slug"`). */
type IntakeRow = Row & { kind: "key" | "slug"; slug?: string; hash?: string; name?: string; revokedAt?: string | null };
/** An ingest key as answered (the slug row shares the collection: it has a slug and no name). */
interface IngestKey {
	id: string;
	name?: string;
	prefix?: string;
	slug?: string;
	revokedAt?: string | null;
}

interface IntakeMethods extends TenantDbMethods {
	setSlug(ctx: Ctx<unknown>, slug: string): Promise<{ slug: string }>;
	/** The caller's tenant's ingest key, or null (the `entity:` loader of revokeKey; the slug row is not a key). */
	findKey(ctx: Ctx<unknown>, id: string): Promise<IngestKey | null>;
}

const IntakeService: ServiceSchema<DbSettings, IntakeMethods> = {
	name: "intake",
	mixins: [
		TenantDbMixin({
			collection: "crm_intake",
			indexes: [
				{ fields: ["kind", "hash"], unique: true },
				{ fields: ["kind", "slug"], unique: true },
				{ fields: ["kind", "slugTenant"], unique: true },
			],
		}),
	],
	settings: {
		rest: "/public/leads",
		fields: ["id", "name", "prefix", "createdBy", "createdAt", "revokedAt", "slug"],
	},
	actions: {
		capture: {
			rest: { method: "POST", path: "/:tenantSlug" },
			auth: "public",
			rateLimit: { max: 30, windowSec: 60 },
			// A full form (30 custom fields of 500 characters, a 2,000-character message) is about 20 kB.
			bodyLimit: "64kb",
			summary: "Web-form lead capture, authenticated by the tenant's ingest key (`X-Ingest-Key` header or body field `ingestKey`).",
			params: {
				tenantSlug: slugParam,
				ingestKey: { type: "string", min: 10, max: 200, optional: true },
				...leadInputParams,
				message: { type: "string", max: 2000, optional: true },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<{ tenantSlug: string; ingestKey?: string; message?: string } & LeadInput>) {
				const { tenantSlug, ingestKey: bodyKey, ...lead } = ctx.params;
				const headerKey = ctx.meta.headers?.["x-ingest-key"];
				const ingestKey: unknown = headerKey || bodyKey;
				// Same answer for an unknown slug, an unknown key and a revoked key: nothing to probe.
				if (typeof ingestKey !== "string" || ingestKey.length < 10 || ingestKey.length > 200) throw new InvalidIngestKeyError();
				// Before any tenant is known: the two deliberate cross-tenant lookups of the CRM.
				const slug = await this.unscopedFindOne<IntakeRow>({ kind: "slug", slug: tenantSlug });
				if (!slug) throw new InvalidIngestKeyError();
				const key = await this.unscopedFindOne<IntakeRow>({ kind: "key", hash: sha256(ingestKey) });
				if (!key || key.tenantId !== slug.tenantId || key.revokedAt) throw new InvalidIngestKeyError();
				const result = (await ctx.call("leads.ingest", lead, asSystem(slug.tenantId))) as { duplicate: boolean };
				ctx.meta.$statusCode = result.duplicate ? 200 : 202;
				return { received: true, duplicate: result.duplicate };
			},
		},

		createKey: {
			rest: { method: "POST", basePath: "/leads", path: "/ingest-keys" },
			roles: ["admin"],
			summary: "A new ingest key (shown once). Pass `slug` to set the tenant's public slug at the same time.",
			params: { name: { type: "string", min: 1, max: 100, trim: true }, slug: { ...slugParam, optional: true }, $$strict: "remove" },
			async handler(ctx: Ctx<{ name: string; slug?: string }>) {
				const user = currentTenantUser(ctx);
				let slug = ctx.params.slug;
				if (slug) await this.setSlug(ctx, slug);
				else slug = (await this.scopedFindOne<IntakeRow>(ctx, { kind: "slug" }))?.slug;
				const key = `vik_${randomBytes(24).toString("base64url")}`;
				const row = await this._create<IngestKey>(ctx, {
					kind: "key",
					name: ctx.params.name,
					hash: sha256(key),
					prefix: key.slice(0, 8),
					createdBy: user.id,
					revokedAt: null,
				});
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/leads/ingest-keys`;
				return { ...row, key, slug: slug ?? null, endpoint: slug ? `/api/public/leads/${slug}` : null };
			},
		},

		listKeys: {
			rest: { method: "GET", basePath: "/leads", path: "/ingest-keys" },
			roles: ["admin"],
			params: { $$strict: "remove" },
			async handler(ctx: Ctx) {
				const rows = await this._find(ctx, { query: { kind: "key" }, sort: "-createdAt", limit: 100 });
				return { rows, total: rows.length };
			},
		},

		revokeKey: {
			rest: { method: "DELETE", basePath: "/leads", path: "/ingest-keys/:id" },
			roles: ["admin"],
			params: { id: idParam },
			entity: "findKey",
			async handler(ctx: Ctx<{ id: string }>) {
				const row = entityOf<IngestKey>(ctx);
				if (!row.revokedAt) await this._update(ctx, { id: ctx.params.id, revokedAt: new Date().toISOString() });
				ctx.meta.$statusCode = 204;
				return null;
			},
		},

		putSettings: {
			rest: { method: "PUT", basePath: "/leads", path: "/settings" },
			roles: ["admin"],
			summary: "The tenant's public slug for web-form capture (unique across tenants).",
			params: { slug: slugParam, $$strict: "remove" },
			idempotent: true,
			handler(ctx: Ctx<{ slug: string }>) {
				return this.setSlug(ctx, ctx.params.slug);
			},
		},

		getSettings: {
			rest: { method: "GET", basePath: "/leads", path: "/settings" },
			roles: ["admin"],
			params: { $$strict: "remove" },
			async handler(ctx: Ctx) {
				const row = await this.scopedFindOne<IntakeRow>(ctx, { kind: "slug" });
				return { slug: row?.slug ?? null };
			},
		},
	},
	methods: {
		async findKey(ctx: Ctx<unknown>, id: string) {
			const row = await this.scopedFindOne<IntakeRow>(ctx, { id, kind: "key" });
			return row && this.toEntity<IngestKey>(row);
		},

		async setSlug(ctx: Ctx<unknown>, slug: string) {
			const tenantId = currentTenantUser(ctx).tenantId;
			// Slugs are unique across tenants: whose is it, if anyone's?
			const taken = await this.unscopedFindOne<IntakeRow>({ kind: "slug", slug });
			if (taken && taken.tenantId !== tenantId) throw new CaptureSlugTakenError();
			const mine = await this.scopedFindOne(ctx, { kind: "slug" });
			try {
				if (mine) await this._update(ctx, { id: mine._id, slug });
				else await this._create(ctx, { kind: "slug", slug, slugTenant: tenantId });
			} catch (err) {
				if (err instanceof ConflictError) throw new CaptureSlugTakenError();
				throw err;
			}
			return { slug };
		},
	},
};

export default IntakeService;
