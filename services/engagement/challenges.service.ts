/**
 * Challenges (`/api/challenges`): generated for the caller from their open tasks and skills by the
 * configured generator (generator.ts: offline default, or the LLM adapter), then accepted,
 * completed or expired. Completing checks the goal (tasks done since acceptance, with the tag),
 * pays the reward and counts the win (each once per challenge: eventIds name it); a head-to-head
 * challenge reports its result to the `challenges` ELO board (won 1, expired after acceptance 0).
 * Status changes are compare-and-set on the status read. Past `expiresAt` a challenge expires when
 * read, and the job `engagement.expire-challenges` (scheduled every few minutes through the
 * scheduler when one runs) expires the ones nobody reads. README, "Engagement domain".
 */
import { config } from "../../lib/config";
import { asSystem, currentTenantUser, type Ctx } from "../../lib/context";
import { ChallengeGoalNotMetError, ChallengeStateError, ForbiddenError, InvalidInputError } from "../../lib/errors";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { entityOf } from "../../middlewares/entity.middleware";
import { TenantDbMixin, type Row, type TenantDbMethods } from "../../mixins/tenant.mixin";
import { JobHandlersMixin } from "../platform/jobs/handlers";
import type { GameSettings } from "./game-rules";
import type { ChallengeInputs, ChallengeSpec, Generator } from "./generator";
import { generatorFor } from "./llm-generator";
import { requireMembers } from "./members";

export type ChallengeStatus = "offered" | "accepted" | "won" | "expired";

export interface Challenge extends ChallengeSpec {
	id: string;
	userId: string;
	opponentId: string | null;
	status: ChallengeStatus;
	generator: string;
	expiresAt: string;
	acceptedAt: string | null;
	completedAt: string | null;
	createdAt: string;
}

/** The ELO board head-to-head challenges report to. */
export const CHALLENGE_BOARD = "challenges";

interface Methods extends TenantDbMethods {
	loadMine(ctx: Ctx<object>, id: string): Promise<Challenge | null>;
	move(ctx: Ctx<object>, c: Challenge, to: ChallengeStatus, set?: Record<string, unknown>): Promise<Challenge>;
	expireIfDue(ctx: Ctx<object>, c: Challenge): Promise<Challenge>;
	sweepExpired(): Promise<{ expired: number }>;
	ensureSweepSchedule(): Promise<void>;
}
interface Vars {
	generator: Generator;
	sweepScheduled: boolean;
}

/** The sweeper's job type, and the platform schedule that runs it. */
export const EXPIRE_JOB = "engagement.expire-challenges";
export const EXPIRE_SCHEDULE = "engagement-expire-challenges";
const EXPIRE_CRON = "*/5 * * * *";
/** challenges one run expires at most (the next run takes the rest) */
const SWEEP_BATCH = 1000;
const OPEN: ChallengeStatus[] = ["offered", "accepted"];

const idParam = { type: "string", min: 1, max: 64 } as const;
const hours = (n: number) => n * 3_600_000;

const ChallengesService: ServiceSchema<DbSettings, Methods, Vars> = {
	name: "challenges",
	mixins: [
		TenantDbMixin({ collection: "engagement_challenges", indexes: [{ fields: ["userId"] }, { fields: ["status"] }, { fields: ["expiresAt"] }] }),
		JobHandlersMixin<Pick<Methods, "sweepExpired">>({
			[EXPIRE_JOB]: {
				handler() {
					return this.sweepExpired();
				},
			},
		}),
	],
	settings: {
		fields: [
			"id",
			"userId",
			"opponentId",
			"title",
			"description",
			"target",
			"tag",
			"reward",
			"durationHours",
			"status",
			"generator",
			"expiresAt",
			"acceptedAt",
			"completedAt",
			"createdAt",
		],
	},
	created() {
		this.generator = generatorFor(config(), this.logger);
		this.sweepScheduled = false;
	},
	async started() {
		await this.ensureSweepSchedule();
	},
	events: {
		// the scheduler may start after this service (or on another node)
		"$services.changed"() {
			return this.ensureSweepSchedule();
		},
	},
	actions: {
		generate: {
			rest: "POST /generate",
			roles: ["member"],
			summary: "A new challenge for you from your open tasks and skills (`opponentId`: head-to-head against a member).",
			params: { opponentId: { type: "string", min: 1, max: 128, optional: true }, $$strict: "remove" },
			timeout: 60_000,
			async handler(ctx: Ctx<{ opponentId?: string }>) {
				const user = currentTenantUser(ctx);
				const opponentId = ctx.params.opponentId ?? null;
				if (opponentId === user.id)
					throw new InvalidInputError("A duel needs another member.", [{ field: "opponentId", message: "must not be yourself" }]);
				await requireMembers(this, ctx, user.tenantId, [opponentId], "opponentId");
				const [openTasks, skills, game] = await Promise.all([
					ctx.call<ChallengeInputs["openTasks"], object>("tasks.openOf", { userId: user.id }),
					ctx.call<string[], object>("gamification.unlockedSkills", { userId: user.id }),
					ctx.call<GameSettings, object>("gamesettings.forTenant", {}),
				]);
				const currencies = game.currencies;
				const spec = await this.generator.challenge({ openTasks, skills, currencies, opponentId });
				const { title, description, target, tag, reward, durationHours, generator } = spec;
				const challenge = await this._create<Challenge>(ctx, {
					userId: user.id,
					opponentId,
					title,
					description,
					target,
					tag,
					reward,
					durationHours,
					generator,
					status: "offered",
					expiresAt: new Date(Date.now() + hours(durationHours)).toISOString(),
					acceptedAt: null,
					completedAt: null,
				});
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/challenges/${challenge.id}`;
				return challenge;
			},
		},
		listChallenges: {
			rest: "GET /",
			roles: ["member"],
			params: { status: { type: "enum", values: ["offered", "accepted", "won", "expired"], optional: true }, $$strict: "remove" },
			handler(ctx: Ctx<{ status?: ChallengeStatus }>) {
				const { status } = ctx.params;
				return this._find<Challenge>(ctx, {
					query: { userId: currentTenantUser(ctx).id, ...(status && { status }) },
					sort: ["-_id"],
					limit: 100,
				});
			},
		},
		getChallenge: {
			rest: "GET /:id",
			roles: ["member"],
			entity: "loadMine",
			params: { id: idParam, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return entityOf<Challenge>(ctx);
			},
		},
		accept: {
			rest: "POST /:id/accept",
			roles: ["member"],
			entity: "loadMine",
			summary: "Starts the challenge: its clock (durationHours) runs from now.",
			params: { id: idParam, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				const c = entityOf<Challenge>(ctx);
				if (c.status !== "offered") throw new ChallengeStateError(c.status, "accepted");
				const now = Date.now();
				return this.move(ctx, c, "accepted", {
					acceptedAt: new Date(now).toISOString(),
					expiresAt: new Date(now + hours(c.durationHours)).toISOString(),
				});
			},
		},
		complete: {
			rest: "POST /:id/complete",
			roles: ["member"],
			entity: "loadMine",
			summary:
				"Claims the win: the goal must be met (409 CHALLENGE_GOAL_NOT_MET with the progress); pays the reward once; a duel moves the ELO board.",
			params: { id: idParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				const c = entityOf<Challenge>(ctx);
				if (c.status !== "accepted") throw new ChallengeStateError(c.status, "completed");
				const done = await ctx.call<number, object>("tasks.completedCount", { userId: c.userId, since: c.acceptedAt, tag: c.tag });
				if (done < c.target) throw new ChallengeGoalNotMetError(done, c.target);
				// each effect is once-only by its eventId, so a retry after a partial failure completes the rest
				const eventId = `challenge:${c.id}`;
				await ctx.call("gamification.credit", {
					userId: c.userId,
					currency: c.reward.currency,
					amount: c.reward.amount,
					reason: `challenge ${c.title}`.slice(0, 200),
					eventId: `${eventId}:reward`,
					refType: "challenge",
					refId: c.id,
				});
				await ctx.call("gamification.recordWin", { userId: c.userId, eventId });
				let rating: unknown = null;
				if (c.opponentId)
					rating = await ctx.call("leaderboards.report", {
						board: CHALLENGE_BOARD,
						playerA: c.userId,
						playerB: c.opponentId,
						scoreA: 1,
						eventId,
					});
				const won = await this.move(ctx, c, "won", { completedAt: new Date().toISOString() });
				return { challenge: won, reward: c.reward, rating };
			},
		},
		// Internal: the sweeper expires one due challenge in its tenant (asSystem).
		expireDue: {
			visibility: "public",
			params: { id: idParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				const row = await this.scopedFindById(ctx, ctx.params.id);
				return row ? this.expireIfDue(ctx, this.toEntity<Challenge>(row)) : null;
			},
		},
		expire: {
			rest: "POST /:id/expire",
			roles: ["member"],
			entity: "loadMine",
			summary: "Ends a challenge whose time is up (a read does the same); an accepted duel counts as lost.",
			params: { id: idParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				const c = entityOf<Challenge>(ctx);
				if (c.status !== "expired") throw new ChallengeStateError(c.status, "expired before its time");
				return c;
			},
		},
	},
	methods: {
		async loadMine(ctx: Ctx<object>, id: string) {
			const row = await this.scopedFindById(ctx, id);
			if (!row) return null;
			const c = this.toEntity<Challenge>(row);
			if (c.userId !== currentTenantUser(ctx).id && c.opponentId !== currentTenantUser(ctx).id) return null;
			return this.expireIfDue(ctx, c);
		},
		async move(ctx: Ctx<object>, c: Challenge, to: ChallengeStatus, set: Record<string, unknown> = {}) {
			if (c.userId !== currentTenantUser(ctx).id) throw new ForbiddenError("Only the challenged member can do this.");
			const n = await this.scopedUpdateWhere(ctx, { id: c.id, status: c.status }, { ...set, status: to });
			if (n === 0) {
				const now = await this.scopedFindById(ctx, c.id);
				throw new ChallengeStateError(now ? String(now.status) : "gone", to);
			}
			return this.toEntity<Challenge>((await this.scopedFindById(ctx, c.id))!);
		},
		async expireIfDue(ctx: Ctx<object>, c: Challenge) {
			if ((c.status !== "offered" && c.status !== "accepted") || Date.parse(c.expiresAt) > Date.now()) return c;
			if (c.status === "accepted" && c.opponentId)
				await ctx.call("leaderboards.report", {
					board: CHALLENGE_BOARD,
					playerA: c.userId,
					playerB: c.opponentId,
					scoreA: 0,
					eventId: `challenge:${c.id}`,
				});
			// a concurrent change wins the compare-and-set; either way the stored row is the answer
			await this.scopedUpdateWhere(ctx, { id: c.id, status: c.status }, { status: "expired" });
			const row = await this.scopedFindById(ctx, c.id);
			return row ? this.toEntity<Challenge>(row) : c;
		},
		async sweepExpired() {
			const now = new Date().toISOString();
			let expired = 0;
			for (let i = 0; i < SWEEP_BATCH; i++) {
				// the deliberate cross-tenant read: the sweeper serves every tenant, then acts inside the row's own
				const row = await this.unscopedFindOne<Row>({ status: { $in: OPEN }, expiresAt: { $lt: now } });
				if (!row) break;
				const c = await this.broker.call<Challenge | null, object>("challenges.expireDue", { id: String(row._id) }, asSystem(row.tenantId));
				if (c?.status !== "expired") {
					// changed meanwhile into something else that is still open: never loop on it
					if (c && OPEN.includes(c.status)) break;
					continue;
				}
				expired++;
			}
			if (expired) this.logger.info("challenges expired by the sweeper", { expired });
			return { expired };
		},
		async ensureSweepSchedule() {
			if (this.sweepScheduled || !this.broker.registry.getActionEndpoints("scheduler.ensure")?.hasAvailable()) return;
			this.sweepScheduled = true;
			try {
				await this.broker.call("scheduler.ensure", {
					id: EXPIRE_SCHEDULE,
					name: "Expire challenges nobody reads",
					cron: EXPIRE_CRON,
					jobType: EXPIRE_JOB,
				});
			} catch (err) {
				this.sweepScheduled = false; // the next change of services tries again
				this.logger.warn("the challenge sweeper's schedule could not be ensured", { err: (err as Error).message });
			}
		},
	},
};

export default ChallengesService;
