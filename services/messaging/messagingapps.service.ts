/**
 * Meta apps a tenant connects (README, "Messaging domain" → "Apps"): the app secret (signs webhooks),
 * the verify token (Meta's subscription handshake) and per channel the page / IG user / phone-number id
 * with its access token. Secrets and tokens are sealed at rest (./secret-box.ts) and never answered:
 * the API shows that one is set and its last 4 characters. Other messaging services get them opened
 * through the internal actions `webhookApp` (before a tenant is known) and `credentials`.
 */
import { currentUser, type Ctx } from "../../lib/context";
import { config } from "../../lib/config";
import { InvalidInputError, NotFoundError } from "../../lib/errors";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { removeByIdAction, TenantDbMixin, type Row, type TenantDbMethods } from "../../mixins/tenant.mixin";
import { externalIdParam, idParam, kindParam, type ChannelCredentials, type ChannelKind } from "./common";
import { hint, loadSecretKey, open, seal } from "./secret-box";

interface StoredChannel {
	kind: ChannelKind;
	accountId: string;
	accessToken: string;
	accessTokenLast4: string;
}
interface AppRow extends Row {
	name: string;
	appId: string;
	appSecret: string;
	appSecretLast4: string;
	verifyToken: string;
	verifyTokenLast4: string;
	channels: StoredChannel[];
}
interface ChannelInput {
	kind: ChannelKind;
	pageId?: string;
	igUserId?: string;
	phoneNumberId?: string;
	accessToken: string;
}
interface AppInput {
	name?: string;
	appId?: string;
	appSecret?: string;
	verifyToken?: string;
	channels?: ChannelInput[];
}

/** Which field names a channel's account for each kind (Meta's own names). */
const ACCOUNT_FIELD: Record<ChannelKind, "pageId" | "igUserId" | "phoneNumberId"> = {
	messenger: "pageId",
	instagram: "igUserId",
	whatsapp: "phoneNumberId",
};

const secret = { type: "string", min: 8, max: 512 } as const;
const channelsParam = {
	type: "array",
	min: 1,
	max: 20,
	items: {
		type: "object",
		strict: "remove",
		props: {
			kind: kindParam,
			pageId: { ...externalIdParam, optional: true },
			igUserId: { ...externalIdParam, optional: true },
			phoneNumberId: { ...externalIdParam, optional: true },
			accessToken: { type: "string", min: 8, max: 2048 },
		},
	},
} as const;

interface AppsMethods extends TenantDbMethods {
	toPublic(row: AppRow): Record<string, unknown>;
	sealInput(input: AppInput): Record<string, unknown>;
}
interface AppsVars {
	secretKey: Buffer;
}

const AppsService: ServiceSchema<DbSettings, AppsMethods, AppsVars> = {
	name: "messagingapps",
	mixins: [TenantDbMixin({ collection: "messaging_apps", indexes: [{ fields: ["tenantId", "appId"], unique: true }] })],
	settings: {
		rest: "/messaging/apps",
		fields: ["id", "name", "appId", "appSecretLast4", "verifyTokenLast4", "channels", "createdBy", "createdAt", "updatedAt"],
	},
	actions: {
		createApp: {
			rest: "POST /",
			roles: ["admin"],
			summary: "Connect a Meta app; the answer names the webhook URL to paste into Meta's dashboard.",
			params: {
				name: { type: "string", min: 1, max: 200, trim: true },
				appId: { ...externalIdParam, pattern: /^\d+$/ },
				appSecret: secret,
				verifyToken: secret,
				channels: channelsParam,
				$$strict: "remove",
			},
			async handler(ctx: Ctx<Required<AppInput>>) {
				const row = await this._create<{ id: string }>(ctx, { ...this.sealInput(ctx.params), createdBy: currentUser(ctx).id });
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/messaging/apps/${row.id}`;
				return this.toPublic((await this.scopedFindById<AppRow>(ctx, row.id))!);
			},
		},
		listApps: {
			rest: "GET /",
			roles: ["member"],
			params: { $$strict: "remove" },
			async handler(ctx: Ctx) {
				const apps = await this._find<AppRow & { id: string }>(ctx, { query: {}, sort: "createdAt", limit: 200 });
				return { rows: apps.map(a => this.toPublic({ ...a, _id: a.id })), total: apps.length };
			},
		},
		getApp: {
			rest: "GET /:id",
			roles: ["member"],
			params: { id: idParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				const row = await this.scopedFindById<AppRow>(ctx, ctx.params.id);
				if (!row) throw new NotFoundError("No such app.", ctx.params.id);
				return this.toPublic(row);
			},
		},
		updateApp: {
			rest: "PATCH /:id",
			roles: ["admin"],
			summary: "Change the name, rotate the secret or verify token, or replace the channels (with their tokens).",
			params: {
				id: idParam,
				name: { type: "string", min: 1, max: 200, trim: true, optional: true },
				appSecret: { ...secret, optional: true },
				verifyToken: { ...secret, optional: true },
				channels: { ...channelsParam, optional: true },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<AppInput & { id: string }>) {
				const { id, ...input } = ctx.params;
				await this._update(ctx, { id, ...this.sealInput(input) });
				return this.toPublic((await this.scopedFindById<AppRow>(ctx, id))!);
			},
		},
		deleteApp: removeByIdAction({ roles: ["admin"] }),

		webhookApp: {
			visibility: "public",
			summary: "The tenant, app secret and verify token of an app, by its id, for the public webhook (opened secrets; internal only).",
			params: { id: idParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				// Before a tenant is known: the webhook URL names only the app (README, "Messaging domain").
				const row = (await this.unscopedFindOne({ _id: ctx.params.id })) as AppRow | null;
				if (!row) return null;
				return {
					tenantId: row.tenantId,
					appSecret: open(this.secretKey, row.appSecret),
					verifyToken: open(this.secretKey, row.verifyToken),
					accounts: row.channels.map(c => ({ kind: c.kind, accountId: c.accountId })),
				};
			},
		},
		credentials: {
			visibility: "public",
			summary: "The opened access token of one channel of an app of the caller's tenant (internal only).",
			params: { appId: idParam, kind: kindParam, accountId: externalIdParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ appId: string; kind: ChannelKind; accountId: string }>): Promise<ChannelCredentials> {
				const row = await this.scopedFindById<AppRow>(ctx, ctx.params.appId);
				const channel = row?.channels.find(c => c.kind === ctx.params.kind && c.accountId === ctx.params.accountId);
				if (!row || !channel) throw new NotFoundError("No such channel of this app.", ctx.params.appId);
				return { appId: row._id, kind: channel.kind, accountId: channel.accountId, accessToken: open(this.secretKey, channel.accessToken) };
			},
		},
	},
	methods: {
		toPublic(row: AppRow) {
			const secretHint = (last4: string) => ({ set: true, last4 });
			return {
				id: row._id,
				name: row.name,
				appId: row.appId,
				appSecret: secretHint(row.appSecretLast4),
				verifyToken: secretHint(row.verifyTokenLast4),
				channels: row.channels.map(c => ({
					kind: c.kind,
					[ACCOUNT_FIELD[c.kind]]: c.accountId,
					accessToken: secretHint(c.accessTokenLast4),
				})),
				webhookPath: `/api/messaging/webhooks/${row._id}`,
				createdBy: row.createdBy,
				createdAt: row.createdAt,
				updatedAt: row.updatedAt,
			};
		},
		sealInput(input: AppInput) {
			const out: Record<string, unknown> = {};
			if (input.name !== undefined) out.name = input.name;
			if (input.appId !== undefined) out.appId = input.appId;
			if (input.appSecret !== undefined)
				Object.assign(out, { appSecret: seal(this.secretKey, input.appSecret), appSecretLast4: hint(input.appSecret).last4 });
			if (input.verifyToken !== undefined)
				Object.assign(out, { verifyToken: seal(this.secretKey, input.verifyToken), verifyTokenLast4: hint(input.verifyToken).last4 });
			if (input.channels !== undefined) {
				const errors: { field: string; message: string }[] = [];
				const seen = new Set<string>();
				out.channels = input.channels.map((c, i) => {
					const accountId = c[ACCOUNT_FIELD[c.kind]];
					if (!accountId)
						errors.push({
							field: `channels[${i}].${ACCOUNT_FIELD[c.kind]}`,
							message: `a ${c.kind} channel needs its ${ACCOUNT_FIELD[c.kind]}`,
						});
					else if (seen.has(`${c.kind}:${accountId}`)) errors.push({ field: `channels[${i}]`, message: "this channel is listed twice" });
					seen.add(`${c.kind}:${accountId}`);
					return {
						kind: c.kind,
						accountId: accountId ?? "",
						accessToken: seal(this.secretKey, c.accessToken),
						accessTokenLast4: hint(c.accessToken).last4,
					};
				});
				if (errors.length) throw new InvalidInputError("The channels are not valid.", errors);
			}
			return out;
		},
	},
	created() {
		const { key, generated } = loadSecretKey(config());
		if (generated) this.logger.warn("MESSAGING_SECRET_KEY is not set: generated a development key in DATA_DIR/keys/messaging-secret.key");
		this.secretKey = key;
	},
};

export default AppsService;
