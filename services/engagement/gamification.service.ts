/**
 * Gamification (`/api/gamification`): wallets as a ledger (ledger.ts), spends and transfers that
 * never overdraw, awards idempotent by eventId, rules that pay for `tasks.completed` and are
 * reversed on `tasks.reopened`, levels from xp and badges from counters. Counters and badges are
 * ledger entries of internal currencies (`stat:*`, `badge:*`): the same once-only and cross-node
 * guarantees, and a badge is awarded once because its eventId names the user and the badge.
 * README, "Engagement domain".
 */
import { randomUUID } from "node:crypto";
import { config } from "../../lib/config";
import { asSystem, currentTenantUser, type CallerScope, type Ctx } from "../../lib/context";
import { ForbiddenError, InvalidInputError, UnknownCurrencyError } from "../../lib/errors";
import { hasRole } from "../../lib/access";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { TenantDbMixin, type TenantDbMethods } from "../../mixins/tenant.mixin";
import { badgeProgress, dayOf, levelOf, payouts, streakEndingAt, type CompletedEvent, type Counter, type GameSettings } from "./game-rules";
import {
	BADGE_PREFIX,
	isInternalCurrency,
	SKILL_PREFIX,
	STAT_PREFIX,
	teamOwner,
	type LedgerBackend,
	type LedgerEntry,
	type NewEntry,
} from "./ledger";
import { DbLedger } from "./ledger-db";
import { RedisLedger } from "./ledger-redis";
import { requireMembers } from "./members";
import { amountParam, currencyParam, keyParam, reasonParam, refParam } from "./wallet-params";

type AnyCtx = Ctx<object>;

interface GamificationMethods extends TenantDbMethods {
	game(scope: CallerScope): Promise<GameSettings>;
	requireCurrency(scope: CallerScope, currency: string): Promise<void>;
	entry(e: Partial<NewEntry> & Pick<NewEntry, "userId" | "currency" | "amount" | "eventId">): NewEntry;
	summary(scope: CallerScope, userId: string): Promise<Record<string, unknown>>;
	counters(scope: CallerScope, userId: string, day?: string): Promise<Record<Counter, number>>;
	checkBadges(scope: CallerScope, userId: string): Promise<string[]>;
	onCompleted(e: CompletedEvent): Promise<void>;
	onReopened(e: { tenantId: string; userId: string; eventId: string; completedEventId: string }): Promise<void>;
	idempotencyKey(ctx: AnyCtx, param?: string): string | undefined;
}
interface GamificationVars {
	ledger: LedgerBackend;
	/** what this node handled (operators, and the cluster test: both nodes took part) */
	handled: { spends: number; events: number };
}

/** a wallet owner: a user id, or `team:<id>` for a team's wallet (internal actions only) */
const userIdParam = { type: "string", min: 1, max: 128, trim: true } as const;
/** a user named by a caller: never a team's wallet key */
const memberIdParam = { ...userIdParam, pattern: /^(?!team:)/, messages: { stringPattern: "must be a user id" } } as const;

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
			handler(ctx: Ctx<{ tenantId: string; userId: string; eventId: string; completedEventId: string }>) {
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
			async handler(ctx: Ctx<{ currency: string; amount: number; reason: string; refType?: string; refId?: string; idempotencyKey?: string }>) {
				const user = currentTenantUser(ctx);
				const { currency, amount, reason, refType, refId } = ctx.params;
				this.handled.spends++;
				await this.requireCurrency(ctx, currency);
				const key = this.idempotencyKey(ctx, ctx.params.idempotencyKey);
				const eventId = key ? `spend:${user.id}:${key}` : `spend:${randomUUID()}`;
				const { entry, duplicate } = await this.ledger.append(
					ctx,
					this.entry({ userId: user.id, currency, amount: -amount, reason, refType, refId, eventId }),
					true,
				);
				ctx.meta.$statusCode = duplicate ? 200 : 201;
				return entry;
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
			async handler(ctx: Ctx<{ toUserId: string; currency: string; amount: number; reason: string; idempotencyKey?: string }>) {
				const user = currentTenantUser(ctx);
				const { toUserId, currency, amount, reason } = ctx.params;
				if (toUserId === user.id)
					throw new InvalidInputError("A transfer needs another recipient.", [{ field: "toUserId", message: "must not be yourself" }]);
				await this.requireCurrency(ctx, currency);
				await requireMembers(this, ctx, user.tenantId, [toUserId], "toUserId");
				const key = this.idempotencyKey(ctx, ctx.params.idempotencyKey);
				const id = key ? `${user.id}:${key}` : randomUUID();
				const result = await this.ledger.transfer(
					ctx,
					this.entry({
						userId: user.id,
						currency,
						amount: -amount,
						reason,
						refType: "transfer",
						refId: `transfer:${id}`,
						eventId: `transfer:${id}:debit`,
					}),
					this.entry({
						userId: toUserId,
						currency,
						amount,
						reason,
						refType: "transfer",
						refId: `transfer:${id}`,
						eventId: `transfer:${id}:credit`,
					}),
				);
				ctx.meta.$statusCode = result.duplicate ? 200 : 201;
				return { debit: result.debit, credit: result.credit };
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
				return entry;
			},
		},
		// Internal: other engagement services pay and charge through these (the caller's ctx carries the tenant).
		charge: {
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
			async handler(
				ctx: Ctx<{ userId: string; currency: string; amount: number; reason: string; eventId: string; refType?: string; refId?: string }>,
			) {
				const { userId, currency, amount, reason, eventId, refType, refId } = ctx.params;
				await this.requireCurrency(ctx, currency);
				return this.ledger.append(ctx, this.entry({ userId, currency, amount: -amount, reason, eventId, refType, refId }), true);
			},
		},
		credit: {
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
			async handler(
				ctx: Ctx<{ userId: string; currency: string; amount: number; reason: string; eventId: string; refType?: string; refId?: string }>,
			) {
				const { userId, currency, amount, reason, eventId, refType, refId } = ctx.params;
				await this.requireCurrency(ctx, currency);
				return this.ledger.append(ctx, this.entry({ userId, currency, amount, reason, eventId, refType, refId }), false);
			},
		},
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
		game(scope: CallerScope) {
			return this.broker.call<GameSettings, object>("gamesettings.forTenant", {}, { meta: scope.meta });
		},
		async requireCurrency(scope: CallerScope, currency: string) {
			if (!(await this.game(scope)).currencies.includes(currency)) throw new UnknownCurrencyError(currency);
		},
		idempotencyKey(ctx: AnyCtx, param?: string) {
			const header = ctx.meta.headers?.["idempotency-key"];
			return param ?? (typeof header === "string" ? header : undefined);
		},
		entry(e) {
			return { reason: "", ...e, refType: e.refType ?? null, refId: e.refId ?? null, day: e.day ?? null };
		},
		async counters(scope: CallerScope, userId: string, day?: string) {
			const balances = await this.ledger.balances(scope, userId);
			const done = await this.ledger.entries(scope, userId, `${STAT_PREFIX}tasksCompleted`, 10_000);
			const byDay = new Map<string, number>();
			for (const e of done) if (e.day) byDay.set(e.day, (byDay.get(e.day) ?? 0) + e.amount);
			const today = day ?? dayOf(new Date().toISOString());
			// a streak is alive until the day after its last day ends
			const yesterday = dayOf(new Date(Date.parse(`${today}T00:00:00Z`) - 86_400_000).toISOString());
			return {
				tasksCompleted: balances[`${STAT_PREFIX}tasksCompleted`] ?? 0,
				challengesWon: balances[`${STAT_PREFIX}challengesWon`] ?? 0,
				streakDays: Math.max(streakEndingAt(today, byDay), day ? 0 : streakEndingAt(yesterday, byDay)),
			};
		},
		async checkBadges(scope: CallerScope, userId: string) {
			const [game, counters] = await Promise.all([this.game(scope), this.counters(scope, userId)]);
			const won: string[] = [];
			for (const b of game.badges) {
				if (counters[b.counter] < b.atLeast) continue;
				const r = await this.ledger.append(
					scope,
					this.entry({
						userId,
						currency: `${BADGE_PREFIX}${b.id}`,
						amount: 1,
						reason: b.name,
						eventId: `badge:${b.id}:${userId}`,
						refType: "badge",
					}),
					false,
				);
				if (!r.duplicate) won.push(b.id);
			}
			return won;
		},
		async summary(scope: CallerScope, userId: string) {
			const [game, balances, counters] = await Promise.all([
				this.game(scope),
				this.ledger.balances(scope, userId),
				this.counters(scope, userId),
			]);
			const earned = new Set(
				Object.keys(balances)
					.filter(c => c.startsWith(BADGE_PREFIX) && balances[c] > 0)
					.map(c => c.slice(BADGE_PREFIX.length)),
			);
			const visible = Object.fromEntries(game.currencies.map(c => [c, balances[c] ?? 0]));
			for (const [c, v] of Object.entries(balances)) if (!isInternalCurrency(c) && !(c in visible)) visible[c] = v;
			return {
				userId,
				balances: visible,
				level: levelOf(game.levelCurve, balances.xp ?? 0),
				counters,
				badges: badgeProgress(game.badges, counters, earned),
			};
		},
		async onCompleted(e: CompletedEvent) {
			const scope = asSystem(e.tenantId);
			const day = dayOf(e.completedAt);
			// every step is idempotent by its own eventId: a redelivery after a crash finishes what is missing
			await this.ledger.append(
				scope,
				this.entry({
					userId: e.userId,
					currency: `${STAT_PREFIX}tasksCompleted`,
					amount: 1,
					reason: "task completed",
					eventId: `${e.eventId}/count`,
					refType: "task",
					refId: e.eventId,
					day,
				}),
				false,
			);
			const [game, counters] = await Promise.all([this.game(scope), this.counters(scope, e.userId, day)]);
			for (const p of payouts(game.rules, e, counters.streakDays)) {
				if (!game.currencies.includes(p.currency)) continue;
				await this.ledger.append(
					scope,
					this.entry({
						userId: p.teamId ? teamOwner(p.teamId) : e.userId,
						currency: p.currency,
						amount: p.amount,
						reason: `rule ${p.ruleId}`,
						eventId: `${e.eventId}/${p.ruleId}`,
						refType: "task",
						refId: e.eventId,
						day,
					}),
					false,
				);
			}
			await this.checkBadges(scope, e.userId);
		},
		async onReopened(e) {
			const scope = asSystem(e.tenantId);
			const paid: LedgerEntry[] = await this.ledger.entriesOfRef(scope, e.completedEventId);
			// the reversal may take a balance below 0 (coins already spent): the debt shows, nothing is hidden
			for (const p of paid)
				await this.ledger.append(
					scope,
					this.entry({
						userId: p.userId,
						currency: p.currency,
						amount: -p.amount,
						reason: `reversal: ${p.reason}`,
						eventId: `${e.eventId}/${p.eventId}`,
						refType: "reversal",
						refId: e.eventId,
						day: p.day,
					}),
					false,
				);
		},
	},
};

export default GamificationService;
