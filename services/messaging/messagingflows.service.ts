/**
 * Flow definitions per app (README, "Messaging domain" → "Flows"): a draft that is edited (each save a new
 * `version`) and a published snapshot that runs (`publishedVersion`). A run keeps the steps of the version
 * it started with. Runs: `messagingflowruns`.
 */
import { currentUser, type Ctx } from "../../lib/context";
import { InvalidInputError, NotFoundError } from "../../lib/errors";
import { pageParams } from "../../lib/paging";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { removeByIdAction, TenantDbMixin, type Row, type TenantDbMethods } from "../../mixins/tenant.mixin";
import { idParam } from "./common";
import { checkDefinition, definitionParams, type FlowDefinition } from "./flow-definition";

export interface FlowRow extends Row, FlowDefinition {
	appId: string;
	name: string;
	version: number;
	published: (FlowDefinition & { version: number }) | null;
	/** round-robin turns taken by its assign steps */
	turns: number;
}

interface FlowsMethods extends TenantDbMethods {
	flowOr404(ctx: Ctx<unknown>, id: string): Promise<FlowRow>;
	check(def: FlowDefinition): void;
}

const FlowsService: ServiceSchema<DbSettings, FlowsMethods> = {
	name: "messagingflows",
	mixins: [TenantDbMixin({ collection: "messaging_flows", indexes: [{ fields: ["appId"] }] })],
	settings: {
		rest: "/messaging/flows",
		fields: ["id", "appId", "name", "trigger", "steps", "version", "published", "createdBy", "createdAt", "updatedAt"],
	},
	actions: {
		listFlows: {
			rest: "GET /",
			roles: ["member"],
			params: { ...pageParams, appId: { ...idParam, optional: true }, $$strict: "remove" },
			handler(ctx: Ctx<{ page: number; pageSize: number; appId?: string }>) {
				const { page, pageSize, appId } = ctx.params;
				return this._list(ctx, { query: appId ? { appId } : {}, page, pageSize, sort: "createdAt" });
			},
		},
		getFlow: {
			rest: "GET /:id",
			roles: ["member"],
			params: { id: idParam, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this._get(ctx, { id: ctx.params.id });
			},
		},
		createFlow: {
			rest: "POST /",
			roles: ["admin"],
			params: { appId: idParam, name: { type: "string", min: 1, max: 200, trim: true }, ...definitionParams, $$strict: "remove" },
			async handler(ctx: Ctx<FlowDefinition & { appId: string; name: string }>) {
				await ctx.call("messagingapps.getApp", { id: ctx.params.appId });
				this.check(ctx.params);
				const flow = await this._create<{ id: string }>(ctx, {
					...ctx.params,
					version: 1,
					published: null,
					turns: 0,
					createdBy: currentUser(ctx).id,
				});
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/messaging/flows/${flow.id}`;
				return flow;
			},
		},
		updateFlow: {
			rest: "PUT /:id",
			roles: ["admin"],
			summary: "Replace the draft (a new version); the published one runs on until the next publish.",
			params: { id: idParam, name: { type: "string", min: 1, max: 200, trim: true }, ...definitionParams, $$strict: "remove" },
			async handler(ctx: Ctx<FlowDefinition & { id: string; name: string }>) {
				const row = await this.flowOr404(ctx, ctx.params.id);
				this.check(ctx.params);
				const { id, name, trigger, steps } = ctx.params;
				return this._update(ctx, { id, name, trigger, steps, version: row.version + 1 });
			},
		},
		publishFlow: {
			rest: "POST /:id/publish",
			roles: ["admin"],
			idempotent: true,
			params: { id: idParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				const row = await this.flowOr404(ctx, ctx.params.id);
				return this._update(ctx, { id: row._id, published: { version: row.version, trigger: row.trigger, steps: row.steps } });
			},
		},
		unpublishFlow: {
			rest: "POST /:id/unpublish",
			roles: ["admin"],
			idempotent: true,
			summary: "Stop starting new runs (runs under way finish).",
			params: { id: idParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				await this.flowOr404(ctx, ctx.params.id);
				return this._update(ctx, { id: ctx.params.id, published: null });
			},
		},
		deleteFlow: removeByIdAction({ roles: ["admin"] }),

		published: {
			visibility: "public",
			summary: "The published flows of an app, oldest first (internal: messagingflowruns).",
			params: { appId: idParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ appId: string }>) {
				const rows = await this._find<FlowRow & { id: string }>(ctx, {
					query: { appId: ctx.params.appId, published: { $ne: null } },
					sort: "createdAt",
					limit: 100,
				});
				return rows.map(r => ({ id: r.id, ...r.published! }));
			},
		},
		nextTurn: {
			visibility: "public",
			summary: "The next round-robin turn of a flow (internal: compare-and-set, so two runs never take one turn).",
			params: { id: idParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				for (let attempt = 0; attempt < 20; attempt++) {
					const row = await this.flowOr404(ctx, ctx.params.id);
					if (await this.scopedUpdateWhere(ctx, { id: row._id, turns: row.turns }, { turns: row.turns + 1 })) return row.turns;
				}
				throw new Error(`flow ${ctx.params.id}: too many concurrent turns`);
			},
		},
	},
	methods: {
		async flowOr404(ctx: Ctx<unknown>, id: string) {
			const row = await this.scopedFindById<FlowRow>(ctx, id);
			if (!row) throw new NotFoundError("No such flow.", id);
			return row;
		},
		check(def: FlowDefinition) {
			const issues = checkDefinition(def);
			if (issues.length) throw new InvalidInputError("The flow is not valid.", issues);
		},
	},
};

export default FlowsService;
