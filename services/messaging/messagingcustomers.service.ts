/**
 * Customers of a tenant's Meta channels (README, "Messaging domain" → "Customers"): one per person, with
 * external identities per channel (PSID, IGSID, WhatsApp wa_id), created on first contact. The profile
 * (name, picture) is filled in later from the Graph API by the `messaging.profile` channel, so a Graph
 * outage never holds up a message. Search, attributes, tags, and merging two customers (the identities
 * and conversations move to the one kept; the other stays, marked `mergedInto`, so history is kept).
 *
 * An identity is unique per tenant through `identityKeys` (a unique index over an array: a key can
 * belong to one customer only, so two nodes seeing a new customer at once create one).
 */
import { currentTenantUser, type Ctx } from "../../lib/context";
import { InvalidInputError, NotFoundError, ConflictError } from "../../lib/errors";
import { pageParams } from "../../lib/paging";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { escapeRegex } from "../../lib/text";
import { sendToChannel } from "../platform/common";
import { TenantDbMixin, type Row, type TenantDbMethods } from "../../mixins/tenant.mixin";
import { externalIdParam, idParam, kindParam, PROFILE_CHANNEL, type ChannelKind } from "./common";

export interface Identity {
	kind: ChannelKind;
	appId: string;
	accountId: string;
	externalId: string;
}
interface CustomerRow extends Row {
	name: string | null;
	pictureUrl: string | null;
	identities: Identity[];
	identityKeys: string[];
	attributes: Record<string, string | number | boolean | null>;
	tags: string[];
	profileStatus: "pending" | "fetched" | "unavailable";
	mergedInto: string | null;
}

const identityKey = (tenantId: string, i: Pick<Identity, "kind" | "accountId" | "externalId">) =>
	`${tenantId}|${i.kind}|${i.accountId}|${i.externalId}`;
const tagParam = { type: "string", min: 1, max: 50, trim: true, lowercase: true, pattern: /^[\p{L}\p{N} _-]+$/u } as const;
const MAX_ATTRIBUTES = 50;
const attributesParam = {
	type: "record",
	key: { type: "string", min: 1, max: 64, pattern: /^[A-Za-z][\w.-]*$/ },
	value: { type: "multi", rules: [{ type: "string", max: 1000 }, { type: "number" }, { type: "boolean" }], nullable: true },
} as const;

interface CustomersMethods extends TenantDbMethods {
	customerOr404(ctx: Ctx<unknown>, id: string): Promise<CustomerRow>;
	requestProfile(ctx: Ctx<unknown>, row: CustomerRow): Promise<void>;
}

const CustomersService: ServiceSchema<DbSettings, CustomersMethods> = {
	name: "messagingcustomers",
	mixins: [TenantDbMixin({ collection: "messaging_customers", indexes: [{ fields: ["identityKeys"], unique: true }] })],
	settings: {
		rest: "/messaging/customers",
		fields: ["id", "name", "pictureUrl", "identities", "attributes", "tags", "profileStatus", "mergedInto", "createdAt", "updatedAt"],
	},
	actions: {
		listCustomers: {
			rest: "GET /",
			roles: ["member"],
			params: {
				...pageParams,
				q: { type: "string", max: 100, trim: true, optional: true },
				tag: { ...tagParam, optional: true },
				$$strict: "remove",
			},
			handler(ctx: Ctx<{ page: number; pageSize: number; q?: string; tag?: string }>) {
				const { page, pageSize, q, tag } = ctx.params;
				const query: Record<string, unknown> = { mergedInto: null };
				if (q) query.name = { $regex: new RegExp(escapeRegex(q), "i") };
				if (tag) query.tags = tag;
				return this._list(ctx, { query, page, pageSize, sort: "-updatedAt" });
			},
		},
		getCustomer: {
			rest: "GET /:id",
			roles: ["member"],
			params: { id: idParam, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this._get(ctx, { id: ctx.params.id });
			},
		},
		updateCustomer: {
			rest: "PATCH /:id",
			roles: ["member"],
			summary: "Rename, or set attributes (merged into the existing ones; null removes one).",
			params: {
				id: idParam,
				name: { type: "string", min: 1, max: 200, trim: true, optional: true },
				attributes: { ...attributesParam, optional: true },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<{ id: string; name?: string; attributes?: CustomerRow["attributes"] }>) {
				const row = await this.customerOr404(ctx, ctx.params.id);
				const set: Record<string, unknown> = {};
				if (ctx.params.name !== undefined) set.name = ctx.params.name;
				if (ctx.params.attributes) {
					const attributes = { ...row.attributes, ...ctx.params.attributes };
					for (const [k, v] of Object.entries(attributes)) if (v === null) delete attributes[k];
					if (Object.keys(attributes).length > MAX_ATTRIBUTES)
						throw new InvalidInputError("Too many attributes.", [{ field: "attributes", message: `at most ${MAX_ATTRIBUTES}` }]);
					set.attributes = attributes;
				}
				return this._update(ctx, { id: row._id, ...set });
			},
		},
		addTags: {
			rest: "POST /:id/tags",
			roles: ["member"],
			idempotent: true,
			params: { id: idParam, tags: { type: "array", min: 1, max: 20, items: tagParam }, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string; tags: string[] }>) {
				const row = await this.customerOr404(ctx, ctx.params.id);
				const tags = [...new Set([...row.tags, ...ctx.params.tags])];
				if (tags.length > 50) throw new InvalidInputError("Too many tags.", [{ field: "tags", message: "a customer has at most 50 tags" }]);
				return this._update(ctx, { id: row._id, tags });
			},
		},
		removeTag: {
			rest: "DELETE /:id/tags/:tag",
			roles: ["member"],
			params: { id: idParam, tag: tagParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string; tag: string }>) {
				const row = await this.customerOr404(ctx, ctx.params.id);
				return this._update(ctx, { id: row._id, tags: row.tags.filter(t => t !== ctx.params.tag) });
			},
		},
		mergeCustomers: {
			rest: "POST /:id/merge",
			roles: ["admin"],
			summary:
				"Merge customer `from` into this one: identities, tags, attributes (this one's win) and conversations move; `from` stays, marked mergedInto.",
			params: { id: idParam, from: idParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string; from: string }>) {
				if (ctx.params.id === ctx.params.from)
					throw new InvalidInputError("A customer cannot be merged into itself.", [{ field: "from", message: "must be another customer" }]);
				const target = await this.customerOr404(ctx, ctx.params.id);
				const source = await this.scopedFindById<CustomerRow>(ctx, ctx.params.from);
				if (!source) throw new InvalidInputError("The customer to merge does not exist.", [{ field: "from", message: "no such customer" }]);
				if (target.mergedInto || source.mergedInto)
					throw new InvalidInputError("That customer was merged already.", [
						{ field: target.mergedInto ? "id" : "from", message: "was merged into another customer" },
					]);
				// The keys leave the source before the target takes them: the unique index allows one owner.
				await this.scopedUpdateWhere(ctx, { id: source._id }, { identityKeys: [], mergedInto: target._id });
				await this.scopedUpdateWhere(
					ctx,
					{ id: target._id },
					{
						identities: [...target.identities, ...source.identities],
						identityKeys: [...target.identityKeys, ...source.identityKeys],
						tags: [...new Set([...target.tags, ...source.tags])],
						attributes: { ...source.attributes, ...target.attributes },
						name: target.name ?? source.name,
						pictureUrl: target.pictureUrl ?? source.pictureUrl,
					},
				);
				await ctx.call("messagingconversations.moveCustomer", { from: source._id, to: target._id });
				return this._get(ctx, { id: target._id });
			},
		},
		refreshProfile: {
			rest: "POST /:id/profile",
			roles: ["member"],
			summary: "Fetch the customer's profile from the Graph API again (in the background: 202).",
			params: { id: idParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				await this.requestProfile(ctx, await this.customerOr404(ctx, ctx.params.id));
				ctx.meta.$statusCode = 202;
				return { queued: true };
			},
		},

		ensure: {
			visibility: "public",
			summary: "The customer with this identity, created on first contact (internal: webhook processing).",
			params: {
				appId: idParam,
				kind: kindParam,
				accountId: externalIdParam,
				externalId: externalIdParam,
				profileName: { type: "string", max: 200, optional: true, nullable: true },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<Identity & { profileName?: string | null }>) {
				const { profileName, ...identity } = ctx.params;
				const key = identityKey(currentTenantUser(ctx).tenantId, identity);
				const found = await this.scopedFindOne<CustomerRow>(ctx, { identityKeys: key });
				if (found) return { id: found._id, created: false, profileStatus: found.profileStatus };
				// WhatsApp has no profile API: its payload carries the name.
				const whatsapp = identity.kind === "whatsapp";
				try {
					const row = await this._create<{ id: string }>(ctx, {
						name: profileName ?? null,
						pictureUrl: null,
						identities: [identity],
						identityKeys: [key],
						attributes: {},
						tags: [],
						profileStatus: whatsapp ? "fetched" : "pending",
						mergedInto: null,
					});
					ctx.emit("messaging.customer.created", { tenantId: currentTenantUser(ctx).tenantId, customerId: row.id });
					return { id: row.id, created: true, profileStatus: whatsapp ? "fetched" : "pending" };
				} catch (err) {
					if (!(err instanceof ConflictError)) throw err;
					// Another node created them a moment ago.
					const winner = await this.scopedFindOne<CustomerRow>(ctx, { identityKeys: key });
					if (!winner) throw err;
					return { id: winner._id, created: false, profileStatus: winner.profileStatus };
				}
			},
		},
		profileTarget: {
			visibility: "public",
			summary: "The identity to fetch a customer's profile with (internal).",
			params: { id: idParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				const row = await this.customerOr404(ctx, ctx.params.id);
				return row.identities.find(i => i.kind !== "whatsapp") ?? null;
			},
		},
		saveProfile: {
			visibility: "public",
			summary: "Store a fetched profile, or that Meta has none to give (internal).",
			params: {
				id: idParam,
				name: { type: "string", max: 200, optional: true, nullable: true },
				pictureUrl: { type: "string", max: 2048, optional: true, nullable: true },
				unavailable: { type: "boolean", default: false },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<{ id: string; name?: string | null; pictureUrl?: string | null; unavailable: boolean }>) {
				const row = await this.customerOr404(ctx, ctx.params.id);
				const set = ctx.params.unavailable
					? { profileStatus: "unavailable" }
					: { profileStatus: "fetched", name: ctx.params.name ?? row.name, pictureUrl: ctx.params.pictureUrl ?? row.pictureUrl };
				await this.scopedUpdateWhere(ctx, { id: row._id }, set);
				return { id: row._id, ...set };
			},
		},
	},
	methods: {
		async customerOr404(ctx: Ctx<unknown>, id: string) {
			const row = await this.scopedFindById<CustomerRow>(ctx, id);
			if (!row) throw new NotFoundError("No such customer.", id);
			return row;
		},
		async requestProfile(ctx: Ctx<unknown>, row: CustomerRow) {
			const tenantId = currentTenantUser(ctx).tenantId;
			await sendToChannel(this.broker, PROFILE_CHANNEL, { tenantId, customerId: row._id });
		},
	},
};

export default CustomersService;
