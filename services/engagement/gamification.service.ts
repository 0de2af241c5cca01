/**
 * Gamification (`/api/gamification`): wallets as a ledger (ledger.ts), spends and transfers that
 * never overdraw, awards idempotent by eventId, rules that pay for `tasks.completed` and are
 * reversed on `tasks.reopened`, levels from xp and badges from counters. Counters and badges are
 * ledger entries of internal currencies (`stat:*`, `badge:*`): the same once-only and cross-node
 * guarantees, and a badge is awarded once because its eventId names the user and the badge.
 * README, "Engagement domain".
 */
import type { ActionSchema } from "moleculer";
import { config } from "../../lib/config";
import { currentTenantUser, type Ctx } from "../../lib/context";
import { ForbiddenError } from "../../lib/errors";
import { hasRole } from "../../lib/access";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { TenantDbMixin } from "../../mixins/tenant.mixin";
import type { CompletedEvent } from "./game-rules";
import { SKILL_PREFIX, STAT_PREFIX } from "./ledger";
import { DbLedger } from "./ledger-db";
import { RedisLedger } from "./ledger-redis";
import { requireMembers } from "./members";
import { amountParam, currencyParam, keyParam, reasonParam, refParam } from "./wallet-params";
import { progressMethods } from "./gamification/progress";
import { taskPayoutMethods } from "./gamification/task-payouts";
import type { GamificationMethods, GamificationThis, GamificationVars, ReopenedEvent, SpendParams, TransferParams } from "./gamification/types";
import { walletMethods } from "./gamification/wallet";

/** a wallet owner: a user id, or `team:<id>` for a team's wallet (internal actions only) */
const userIdParam = { type: "string", min: 1, max: 128, trim: true } as const;
/** a user named by a caller: never a team's wallet key */
const memberIdParam = { ...userIdParam, pattern: /^(?!team:)/, messages: { stringPattern: "must be a user id" } } as const;

interface LedgerMoveParams {
	userId: string;
	currency: string;
	amount: number;
	reason: string;
	eventId: string;
	refType?: string;
	refId?: string;
}

/**
 * The internal `charge` and `credit` actions: one entry on a user's ledger, idempotent by eventId; a
 * charge is negative and never overdraws (the ledger's check-and-append refuses it).
 */
function ledgerMove(kind: "charge" | "credit"): ActionSchema<GamificationThis> {
	return {
		visibility: "public",
		params: {
			userId: userIdParam,
			currency: currencyParam,
			amount: amountParam,
			reason: reasonParam,
			eventId: { type: "string", max: 200 },
			refType: refParam,
			refId: refParam,
			$$strict: "remove",
		},
		async handler(ctx: Ctx<LedgerMoveParams>) {
			const { userId, currency, amount, reason, eventId, refType, refId } = ctx.params;
			await this.requireCurrency(ctx, currency);
			const signed = kind === "charge" ? -amount : amount;
			return this.ledger.append(ctx, this.entry({ userId, currency, amount: signed, reason, eventId, refType, refId }), kind === "charge");
		},
	};
}

const GamificationService: ServiceSchema<DbSettings, GamificationMethods, GamificationVars> = {
	name: "gamification",
	mixins: [
		TenantDbMixin({
			collection: "engagement_ledger",
			indexes: [
				{ fields: ["tenantId", "userId", "currency", "sequence"], unique: true },
				{ fields: ["tenantId", "eventId"], unique: true },
				{ fields: ["userId"] },
				{ fields: ["refId"] },
			],
		}),
	],
	settings: { fields: ["id", "userId", "currency", "amount", "balanceAfter", "sequence", "reason", "refType", "refId", "eventId", "day", "at"] },
	created() {
		this.handled = { spends: 0, events: 0 };
		const cfg = config();
		// a shared store is needed for one ledger across nodes: MongoDB's unique indexes, else Redis
		this.ledger = cfg.REDIS_URL && !cfg.MONGO_URI ? new RedisLedger(cfg.REDIS_URL, `${cfg.NAMESPACE}:eng:`) : new DbLedger(this);
	},
	async stopped() {
		await this.ledger.close();
	},
	channels: {
		"tasks.completed": {
			group: "gamification",
			maxRetries: 5,
			handler(ctx: Ctx<CompletedEvent>) {
				const e = ctx.params;
				if (!e?.tenantId || !e.userId || !e.eventId) return undefined; // malformed: nothing to pay
				this.handled.events++;
				return this.onCompleted(e);
			},
		},
		"tasks.reopened": {
			group: "gamification",
			maxRetries: 5,
			handler(ctx: Ctx<ReopenedEvent>) {
				const e = ctx.params;
				if (!e?.tenantId || !e.completedEventId || !e.eventId) return undefined;
				this.handled.events++;
				return this.onReopened(e);
			},
		},
	},
	actions: {
		me: {
			rest: "GET /me",
			roles: ["member"],
			summary: "Your balances, level, counters and badges.",
			params: { $$strict: "remove" },
			handler(ctx: Ctx) {
				return this.summary(ctx, currentTenantUser(ctx).id);
			},
		},
		userSummary: {
			rest: "GET /users/:userId",
			roles: ["admin"],
			params: { userId: memberIdParam, $$strict: "remove" },
			handler(ctx: Ctx<{ userId: string }>) {
				return this.summary(ctx, ctx.params.userId);
			},
		},
		ledger: {
			rest: "GET /ledger/:currency",
			roles: ["member"],
			summary:
				"Your wallet's entries in one currency (or an internal counter such as stat:tasksCompleted), newest first; `before` (a sequence) pages back.",
			params: {
				currency: { type: "string", min: 1, max: 100, pattern: /^[a-z][a-z0-9_:-]*$/ },
				before: { type: "number", integer: true, min: 1, optional: true, convert: true },
				limit: { type: "number", integer: true, min: 1, max: 100, default: 20, convert: true },
				userId: { ...memberIdParam, optional: true },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<{ currency: string; before?: number; limit: number; userId?: string }>) {
				const user = currentTenantUser(ctx);
				const userId = ctx.params.userId ?? user.id;
				if (userId !== user.id && !hasRole(user.roles ?? [], ["admin"])) throw new ForbiddenError();
				const rows = await this.ledger.entries(ctx, userId, ctx.params.currency, ctx.params.limit, ctx.params.before);
				return { rows, nextBefore: rows.length === ctx.params.limit ? rows[rows.length - 1].sequence : null };
			},
		},
		leaderboard: {
			rest: "GET /leaderboard/:currency",
			roles: ["member"],
			summary:
				"The tenant's members ranked by their balance of one currency (xp by default rules): the top N and your own place. Rank = 1 + the number of balances above yours.",
			params: {
				currency: currencyParam,
				top: { type: "number", integer: true, min: 1, max: 100, default: 10, convert: true },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<{ currency: string; top: number }>) {
				await this.requireCurrency(ctx, ctx.params.currency);
				const wallets = (await this.ledger.walletsOf(ctx, ctx.params.currency)).sort(
					(a, b) => b.balance - a.balance || a.userId.localeCompare(b.userId),
				);
				// sorted by balance: a rank is 1 + the index of the first wallet with the same balance (ties share it)
				let rank = 0;
				const ranked = wallets.map((w, i) => ({ ...w, rank: (rank = i > 0 && wallets[i - 1].balance === w.balance ? rank : i + 1) }));
				const me = currentTenantUser(ctx).id;
				return {
					currency: ctx.params.currency,
					total: ranked.length,
					rows: ranked.slice(0, ctx.params.top),
					me: ranked.find(r => r.userId === me) ?? null,
				};
			},
		},
		spend: {
			rest: "POST /spend",
			roles: ["member"],
			summary:
				"Spends from your wallet: never below 0 (409 INSUFFICIENT_FUNDS, nothing written). `idempotencyKey` (or the Idempotency-Key header) makes a retry spend once.",
			params: {
				currency: currencyParam,
				amount: amountParam,
				reason: reasonParam,
				refType: refParam,
				refId: refParam,
				idempotencyKey: keyParam,
				$$strict: "remove",
			},
			handler(ctx: Ctx<SpendParams>) {
				return this.spendOwn(ctx);
			},
		},
		transfer: {
			rest: "POST /transfers",
			roles: ["member"],
			summary: "Moves an amount from your wallet to a member's: one atomic pair of entries, never below 0.",
			params: {
				toUserId: memberIdParam,
				currency: currencyParam,
				amount: amountParam,
				reason: reasonParam,
				idempotencyKey: keyParam,
				$$strict: "remove",
			},
			handler(ctx: Ctx<TransferParams>) {
				return this.transferOwn(ctx);
			},
		},
		award: {
			rest: "POST /awards",
			roles: ["admin"],
			summary: "Credits a member's wallet once per `eventId` (a repeat answers the first entry).",
			params: {
				userId: memberIdParam,
				currency: currencyParam,
				amount: amountParam,
				reason: reasonParam,
				eventId: { type: "string", min: 1, max: 128 },
				refType: refParam,
				refId: refParam,
				$$strict: "remove",
			},
			async handler(
				ctx: Ctx<{ userId: string; currency: string; amount: number; reason: string; eventId: string; refType?: string; refId?: string }>,
			) {
				const { userId, currency, amount, reason, eventId, refType, refId } = ctx.params;
				await this.requireCurrency(ctx, currency);
				await requireMembers(this, ctx, currentTenantUser(ctx).tenantId, [userId], "userId");
				const { entry, duplicate } = await this.ledger.append(
					ctx,
					this.entry({ userId, currency, amount, reason, eventId: `award:${eventId}`, refType, refId }),
					false,
				);
				ctx.meta.$statusCode = duplicate ? 200 : 201;
				// no GET of one entry: the member's ledger in that currency (admins read it with userId)
				ctx.meta.$location = `/api/gamification/ledger/${encodeURIComponent(currency)}?userId=${encodeURIComponent(userId)}`;
				return entry;
			},
		},
		// Internal: other engagement services pay and charge through these (the caller's ctx carries the tenant).
		charge: ledgerMove("charge"),
		credit: ledgerMove("credit"),
		recordWin: {
			visibility: "public",
			params: { userId: userIdParam, eventId: { type: "string", max: 200 }, $$strict: "remove" },
			async handler(ctx: Ctx<{ userId: string; eventId: string }>) {
				const { userId, eventId } = ctx.params;
				await this.ledger.append(
					ctx,
					this.entry({
						userId,
						currency: `${STAT_PREFIX}challengesWon`,
						amount: 1,
						reason: "challenge won",
						eventId: `${eventId}/win`,
						refType: "challenge",
					}),
					false,
				);
				return { badges: await this.checkBadges(ctx, userId) };
			},
		},
		markSkill: {
			visibility: "public",
			params: { userId: userIdParam, skill: { type: "string", min: 1, max: 64 }, eventId: { type: "string", max: 200 }, $$strict: "remove" },
			async handler(ctx: Ctx<{ userId: string; skill: string; eventId: string }>) {
				const { userId, skill, eventId } = ctx.params;
				return this.ledger.append(
					ctx,
					this.entry({
						userId,
						currency: `${SKILL_PREFIX}${skill}`,
						amount: 1,
						reason: "skill unlocked",
						eventId,
						refType: "skill",
						refId: skill,
					}),
					false,
				);
			},
		},
		unlockedSkills: {
			visibility: "public",
			params: { userId: userIdParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ userId: string }>) {
				const balances = await this.ledger.balances(ctx, ctx.params.userId);
				return Object.keys(balances)
					.filter(c => c.startsWith(SKILL_PREFIX) && balances[c] > 0)
					.map(c => c.slice(SKILL_PREFIX.length));
			},
		},
		stats: {
			visibility: "public",
			summary: "What this node handled: spends and task events (operators, tests).",
			params: { $$strict: "remove" },
			handler() {
				return { ...this.handled };
			},
		},
		balances: {
			visibility: "public",
			params: { userId: userIdParam, $$strict: "remove" },
			handler(ctx: Ctx<{ userId: string }>) {
				return this.ledger.balances(ctx, ctx.params.userId);
			},
		},
	},
	methods: {
		...walletMethods,
		...progressMethods,
		...taskPayoutMethods,
	},
};

export default GamificationService;
