/**
 * Teams (`/api/teams`): named groups of a tenant's members that own a wallet. The wallet is the
 * ledger's (gamification), keyed `team:<id>` (ledger.ts: teamOwner), so awards land once per
 * eventId and parallel spends never overdraw, exactly as a user's. Admins manage teams and award;
 * a team's members spend from its wallet (anyone else: 403). Tasks may carry a `teamId`: rules with
 * `payTo: "team"` pay the team's wallet. README, "Engagement domain" → "Teams and team wallets".
 */
import { randomUUID } from "node:crypto";
import { hasRole } from "../../lib/access";
import { currentTenantUser, type Ctx } from "../../lib/context";
import { ForbiddenError, TeamChangedError } from "../../lib/errors";
import { pageParams } from "../../lib/paging";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { entityOf } from "../../middlewares/entity.middleware";
import { TenantDbMixin, type TenantDbMethods } from "../../mixins/tenant.mixin";
import { isInternalCurrency, teamOwner, type AppendResult } from "./ledger";
import { requireMembers } from "./members";
import { amountParam, currencyParam, keyParam, reasonParam, refParam } from "./wallet-params";

export interface Team {
	id: string;
	name: string;
	members: string[];
	/** +1 on every change of the members (their compare-and-set) */
	revision: number;
	createdBy: string;
	createdAt: string;
	updatedAt: string;
}

interface Methods extends TenantDbMethods {
	loadTeam(ctx: Ctx<object>, id: string): Promise<Team | null>;
	setMembers(ctx: Ctx<object>, team: Team, members: string[]): Promise<Team>;
}

const idParam = { type: "string", min: 1, max: 64 } as const;
const userIdParam = { type: "string", min: 1, max: 128, trim: true, pattern: /^(?!team:)/ } as const;
const MAX_MEMBERS = 500;

type SpendParams = { id: string; currency: string; amount: number; reason: string; refType?: string; refId?: string; idempotencyKey?: string };

const TeamsService: ServiceSchema<DbSettings, Methods> = {
	name: "teams",
	mixins: [TenantDbMixin({ collection: "engagement_teams", indexes: [{ fields: ["members"] }] })],
	settings: { fields: ["id", "name", "members", "revision", "createdBy", "createdAt", "updatedAt"] },
	actions: {
		createTeam: {
			rest: "POST /",
			roles: ["admin"],
			summary: "A team of the tenant's members (422 NOT_A_MEMBER for anyone outside the tenant).",
			params: {
				name: { type: "string", min: 1, max: 100, trim: true },
				members: { type: "array", max: MAX_MEMBERS, unique: true, default: [], items: userIdParam },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<{ name: string; members: string[] }>) {
				const user = currentTenantUser(ctx);
				await requireMembers(this, ctx, user.tenantId, ctx.params.members, "members");
				const team = await this._create<Team>(ctx, { name: ctx.params.name, members: ctx.params.members, revision: 1, createdBy: user.id });
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/teams/${team.id}`;
				return team;
			},
		},
		listTeams: {
			rest: "GET /",
			roles: ["member"],
			params: { ...pageParams, $$strict: "remove" },
			handler(ctx: Ctx<{ page: number; pageSize: number }>) {
				const { page, pageSize } = ctx.params;
				return this._list(ctx, { page, pageSize, sort: "name" });
			},
		},
		getTeam: {
			rest: "GET /:id",
			roles: ["member"],
			entity: "loadTeam",
			params: { id: idParam, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return entityOf<Team>(ctx);
			},
		},
		addMember: {
			rest: "POST /:id/members",
			roles: ["admin"],
			entity: "loadTeam",
			params: { id: idParam, userId: userIdParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string; userId: string }>) {
				const team = entityOf<Team>(ctx);
				await requireMembers(this, ctx, currentTenantUser(ctx).tenantId, [ctx.params.userId], "userId");
				if (team.members.includes(ctx.params.userId)) return team;
				return this.setMembers(ctx, team, [...team.members, ctx.params.userId].slice(0, MAX_MEMBERS));
			},
		},
		removeMember: {
			rest: "DELETE /:id/members/:userId",
			roles: ["admin"],
			entity: "loadTeam",
			params: { id: idParam, userId: userIdParam, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string; userId: string }>) {
				const team = entityOf<Team>(ctx);
				if (!team.members.includes(ctx.params.userId)) return team;
				return this.setMembers(
					ctx,
					team,
					team.members.filter(m => m !== ctx.params.userId),
				);
			},
		},
		wallet: {
			rest: "GET /:id/wallet",
			roles: ["member"],
			entity: "loadTeam",
			summary: "The team's balances (its members and admins).",
			params: { id: idParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				const team = entityOf<Team>(ctx);
				const user = currentTenantUser(ctx);
				if (!team.members.includes(user.id) && !hasRole(user.roles ?? [], ["admin"]))
					throw new ForbiddenError("Only the team's members see its wallet.");
				const all = await ctx.call<Record<string, number>, object>("gamification.balances", { userId: teamOwner(team.id) });
				return { teamId: team.id, balances: Object.fromEntries(Object.entries(all).filter(([c]) => !isInternalCurrency(c))) };
			},
		},
		spend: {
			rest: "POST /:id/spend",
			roles: ["member"],
			entity: "loadTeam",
			summary:
				"A team member spends from the team's wallet (403 for anyone else): never below 0 (409 INSUFFICIENT_FUNDS); `idempotencyKey` (or Idempotency-Key) spends once.",
			params: {
				id: idParam,
				currency: currencyParam,
				amount: amountParam,
				reason: reasonParam,
				refType: refParam,
				refId: refParam,
				idempotencyKey: keyParam,
				$$strict: "remove",
			},
			async handler(ctx: Ctx<SpendParams>) {
				const team = entityOf<Team>(ctx);
				const user = currentTenantUser(ctx);
				if (!team.members.includes(user.id)) throw new ForbiddenError("Only the team's members spend from its wallet.");
				const { currency, amount, reason, refType, refId } = ctx.params;
				const header = ctx.meta.headers?.["idempotency-key"];
				const key = ctx.params.idempotencyKey ?? (typeof header === "string" ? header : undefined);
				// the key is the team's, whoever of its members retries
				const eventId = key ? `spend:${teamOwner(team.id)}:${key}` : `spend:${randomUUID()}`;
				const r = await ctx.call<AppendResult, object>("gamification.charge", {
					userId: teamOwner(team.id),
					currency,
					amount,
					reason,
					eventId,
					refType: refType ?? "team-spend",
					refId: refId ?? user.id,
				});
				ctx.meta.$statusCode = r.duplicate ? 200 : 201;
				// no GET of one entry: the team's wallet, which the entry moved
				ctx.meta.$location = `/api/teams/${team.id}/wallet`;
				return r.entry;
			},
		},
		award: {
			rest: "POST /:id/awards",
			roles: ["admin"],
			entity: "loadTeam",
			summary: "Credits the team's wallet once per `eventId` (a repeat answers the first entry, 200).",
			params: {
				id: idParam,
				currency: currencyParam,
				amount: amountParam,
				reason: reasonParam,
				eventId: { type: "string", min: 1, max: 128 },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<{ id: string; currency: string; amount: number; reason: string; eventId: string }>) {
				const team = entityOf<Team>(ctx);
				const { currency, amount, reason, eventId } = ctx.params;
				const r = await ctx.call<AppendResult, object>("gamification.credit", {
					userId: teamOwner(team.id),
					currency,
					amount,
					reason,
					eventId: `award:${teamOwner(team.id)}:${eventId}`,
					refType: "team-award",
					refId: team.id,
				});
				ctx.meta.$statusCode = r.duplicate ? 200 : 201;
				// no GET of one entry: the team's wallet, which the entry moved
				ctx.meta.$location = `/api/teams/${team.id}/wallet`;
				return r.entry;
			},
		},
		// Internal: tasks checks a task's `teamId` with it.
		teamOf: {
			visibility: "public",
			params: { id: idParam, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this.loadTeam(ctx, ctx.params.id);
			},
		},
	},
	methods: {
		async loadTeam(ctx: Ctx<object>, id: string) {
			const row = await this.scopedFindById(ctx, id);
			return row ? this.toEntity<Team>(row) : null;
		},
		async setMembers(ctx: Ctx<object>, team: Team, members: string[]) {
			// compare-and-set on the members read: two admins changing a team at once cannot lose a change
			const n = await this.scopedUpdateWhere(ctx, { id: team.id, revision: team.revision }, { members, revision: team.revision + 1 });
			if (n === 0) throw new TeamChangedError();
			return (await this.loadTeam(ctx, team.id))!;
		},
	},
};

export default TeamsService;
