/**
 * Flow runs (README, "Messaging domain" → "Flows"): a state machine per conversation, at most one active
 * run per conversation (a unique `activeKey`). Its state (the step it is at, the steps taken, waiting
 * for a reply until when) is stored after every step, so it survives a restart or a lost node:
 * - a run waiting in an `ask` step goes on with the customer's next message, or at its timeout;
 * - a run under way holds a lease (LEASE_MS); if its node dies the lease runs out and another node (or
 *   the same after a restart) resumes it at the stored step. Sends of a run carry an Idempotency-Key
 *   made of the run and the step count, so a resumed step is not sent twice.
 * Both live in a small due-list (`messaging_flow_timers`: run id, tenant, due time) looked at every
 * TICK_MS: the one list that spans tenants, holding no tenant data. A run that takes MAX_STEPS_PER_RUN
 * steps (a loop) is cut off and logged.
 */
import { asSystem, systemUser, type Ctx } from "../../lib/context";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
// eslint-disable-next-line no-restricted-imports -- the due-list spans tenants on purpose (run id, tenant, due time; no tenant data): see the comment above
import { Collection } from "../../mixins/collection";
import { TenantDbMixin, type Row, type TenantDbMethods, type TenantScope } from "../../mixins/tenant.mixin";
import { idParam } from "./common";
import { MAX_STEPS_PER_RUN, nextIndex, triggers, type FlowDefinition, type Step } from "./flow-definition";
import { ConflictError } from "../../lib/errors";

const TICK_MS = 1000;
const LEASE_MS = 30_000;

interface RunRow extends Row {
	flowId: string;
	version: number;
	appId: string;
	conversationId: string;
	customerId: string;
	steps: Step[];
	index: number;
	taken: number;
	state: "running" | "waiting" | "done" | "cut_off" | "failed";
	waitUntil: string | null;
	activeKey: string;
	error: string | null;
	/** the inbound messages that started or carried on this run (each is taken once) */
	inbound?: string[];
}
interface TimerRow {
	id: string;
	tenantId: string;
	dueAt: number;
	createdAt: string;
}
interface InboundInput {
	/** the inbound message: a run takes each message once (a redelivery after a crash finds it taken) */
	messageId: string;
	conversationId: string;
	customerId: string;
	appId: string;
	text: string | null;
	customerCreated: boolean;
	reopened: boolean;
}

interface RunsMethods extends TenantDbMethods {
	execute(scope: TenantScope, run: RunRow): Promise<void>;
	perform(scope: TenantScope, run: RunRow, step: Step): Promise<void>;
	finish(scope: TenantScope, run: RunRow, state: RunRow["state"], error?: string): Promise<void>;
	due(): Promise<void>;
	tenantOfScope(scope: TenantScope): string;
}
interface RunsVars {
	timers: Collection<TimerRow>;
	ticker?: NodeJS.Timeout;
	ticking?: Promise<void>;
}

const RunsService: ServiceSchema<DbSettings, RunsMethods, RunsVars> = {
	name: "messagingflowruns",
	mixins: [
		TenantDbMixin({
			collection: "messaging_flow_runs",
			indexes: [{ fields: ["tenantId", "activeKey"], unique: true }, { fields: ["inbound"] }],
		}),
	],
	settings: {
		rest: "/messaging/flow-runs",
		fields: [
			"id",
			"flowId",
			"version",
			"conversationId",
			"customerId",
			"index",
			"taken",
			"state",
			"waitUntil",
			"error",
			"createdAt",
			"updatedAt",
		],
	},
	actions: {
		listRuns: {
			rest: "GET /",
			roles: ["member"],
			params: { conversationId: { ...idParam, optional: true }, flowId: { ...idParam, optional: true }, $$strict: "remove" },
			async handler(ctx: Ctx<{ conversationId?: string; flowId?: string }>) {
				const query: Record<string, unknown> = {};
				if (ctx.params.conversationId) query.conversationId = ctx.params.conversationId;
				if (ctx.params.flowId) query.flowId = ctx.params.flowId;
				return { rows: await this._find(ctx, { query, sort: "-createdAt", limit: 100 }) };
			},
		},
		onInbound: {
			visibility: "public",
			summary: "An inbound message: the waiting run of its conversation goes on, or a published flow it triggers starts (internal).",
			params: {
				messageId: idParam,
				conversationId: idParam,
				customerId: idParam,
				appId: idParam,
				text: { type: "string", max: 4096, optional: true, nullable: true },
				customerCreated: { type: "boolean", default: false },
				reopened: { type: "boolean", default: false },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<InboundInput>) {
				const p = ctx.params;
				// Started or carried on by this message already (its first processing died before saying so).
				const taken = await this.scopedFindOne<RunRow>(ctx, { inbound: p.messageId });
				if (taken) return { run: taken._id, started: false };
				const active = await this.scopedFindOne<RunRow>(ctx, { activeKey: p.conversationId });
				if (active) {
					if (
						active.state !== "waiting" ||
						!(await this.scopedUpdateWhere(
							ctx,
							{ id: active._id, state: "waiting" },
							{ state: "running", waitUntil: null, inbound: [...(active.inbound ?? []), p.messageId] },
						))
					)
						return { run: active._id, started: false };
					const ask = active.steps[active.index];
					if (ask.type === "ask" && ask.attribute && p.text)
						await ctx.call("messagingcustomers.updateCustomer", {
							id: active.customerId,
							attributes: { [ask.attribute]: p.text.slice(0, 1000) },
						});
					await this.execute(ctx, { ...active, state: "running", index: nextIndex(active.steps, active.index) });
					return { run: active._id, started: false };
				}
				const flows = (await ctx.call("messagingflows.published", { appId: p.appId })) as ({
					id: string;
					version: number;
				} & FlowDefinition)[];
				const flow = flows.find(f => triggers(f.trigger, p));
				if (!flow) return { run: null, started: false };
				let run: RunRow;
				try {
					const created = await this._create<{ id: string }>(ctx, {
						flowId: flow.id,
						version: flow.version,
						appId: p.appId,
						conversationId: p.conversationId,
						customerId: p.customerId,
						steps: flow.steps,
						index: 0,
						taken: 0,
						state: "running",
						waitUntil: null,
						activeKey: p.conversationId,
						inbound: [p.messageId],
						error: null,
					});
					run = (await this.scopedFindById<RunRow>(ctx, created.id))!;
				} catch (err) {
					if (err instanceof ConflictError) return { run: null, started: false }; // a run started a moment ago
					throw err;
				}
				await this.execute(ctx, run);
				return { run: run._id, started: true };
			},
		},
	},
	methods: {
		tenantOfScope(scope: TenantScope) {
			return (scope.meta as { user: { tenantId: string } }).user.tenantId;
		},
		async execute(scope: TenantScope, start: RunRow) {
			const run = { ...start };
			const tenantId = this.tenantOfScope(scope);
			await this.timers.remove({ id: run._id });
			await this.timers.insert({ id: run._id, tenantId, dueAt: Date.now() + LEASE_MS });
			try {
				while (run.index >= 0) {
					if (run.taken >= MAX_STEPS_PER_RUN) {
						this.logger.warn("flow run cut off: too many steps (a loop?)", { runId: run._id, flowId: run.flowId, steps: run.taken });
						return await this.finish(scope, run, "cut_off", `cut off after ${run.taken} steps`);
					}
					const step = run.steps[run.index];
					await this.perform(scope, run, step);
					run.taken++;
					if (step.type === "ask") {
						const waitUntil = Date.now() + step.timeoutS * 1000;
						await this.scopedUpdateWhere(
							scope,
							{ id: run._id },
							{ index: run.index, taken: run.taken, state: "waiting", waitUntil: new Date(waitUntil).toISOString() },
						);
						await this.timers.update({ id: run._id }, { dueAt: waitUntil });
						return;
					}
					run.index = nextIndex(run.steps, run.index);
					await this.scopedUpdateWhere(scope, { id: run._id }, { index: run.index, taken: run.taken });
				}
				await this.finish(scope, run, "done");
			} catch (err) {
				this.logger.warn("flow run failed", {
					runId: run._id,
					flowId: run.flowId,
					step: run.steps[run.index]?.id,
					error: (err as Error).message,
				});
				await this.finish(scope, run, "failed", (err as Error).message.slice(0, 500));
			}
		},
		async perform(scope: TenantScope, run: RunRow, step: Step) {
			const tenantId = this.tenantOfScope(scope);
			const opts = { meta: { user: systemUser(tenantId), headers: { "idempotency-key": `flow:${run._id}:${run.taken}` } } };
			if (step.type === "send" || step.type === "ask")
				await this.broker.call(
					"messagingmessages.sendMessage",
					{ conversationId: run.conversationId, ...(step.templateId ? { templateId: step.templateId } : { text: step.text }) },
					opts,
				);
			else if (step.type === "set_attribute")
				await this.broker.call("messagingcustomers.updateCustomer", { id: run.customerId, attributes: { [step.key]: step.value } }, opts);
			else if (step.type === "tag") await this.broker.call("messagingcustomers.addTags", { id: run.customerId, tags: [step.tag] }, opts);
			else if (step.type === "assign") {
				const assigneeId =
					step.userId ??
					step.roundRobin![
						((await this.broker.call("messagingflows.nextTurn", { id: run.flowId }, opts)) as number) % step.roundRobin!.length
					];
				await this.broker.call("messagingconversations.assignConversation", { id: run.conversationId, assigneeId }, opts);
			} else if (step.type === "close") await this.broker.call("messagingconversations.closeConversation", { id: run.conversationId }, opts);
		},
		async finish(scope: TenantScope, run: RunRow, state: RunRow["state"], error?: string) {
			// activeKey is part of a compound unique index: `_update` keeps NeDB's derived key in step.
			await this._update(scope, {
				id: run._id,
				state,
				index: run.index,
				taken: run.taken,
				waitUntil: null,
				error: error ?? null,
				activeKey: `ended:${run._id}`,
			});
			await this.timers.remove({ id: run._id });
		},
		/** Runs whose wait or lease ran out: a timed-out ask goes on (its `onTimeout` step, or the end); a lost run resumes. */
		async due() {
			for (const timer of await this.timers.find({ dueAt: { $lte: Date.now() } }, { sort: ["dueAt"], limit: 100 })) {
				const scope = asSystem(timer.tenantId);
				const run = await this.scopedFindById<RunRow>(scope, timer.id);
				if (!run || (run.state !== "waiting" && run.state !== "running")) {
					await this.timers.remove({ id: timer.id });
					continue;
				}
				// Compare-and-set: of two nodes looking at one timer, one takes it.
				if (
					!(await this.scopedUpdateWhere(
						scope,
						{ id: run._id, state: run.state, updatedAt: run.updatedAt },
						{ state: "running", waitUntil: null },
					))
				)
					continue;
				if (run.state === "waiting") {
					const ask = run.steps[run.index];
					const jump = ask.type === "ask" ? ask.onTimeout : null;
					const index = jump ? nextIndex(run.steps, run.index, jump) : -1;
					await this.execute(scope, { ...run, state: "running", index });
				} else {
					this.logger.warn("flow run resumed after its node stopped", { runId: run._id, step: run.index });
					await this.execute(scope, { ...run, state: "running" });
				}
			}
		},
	},
	async started() {
		this.timers = new Collection<TimerRow>({ collection: "messaging_flow_timers", indexes: [{ fields: ["dueAt"] }] });
		await this.timers.open(this.broker);
		this.ticker = setInterval(() => {
			if (this.ticking) return;
			this.ticking = this.due()
				.catch(err => this.logger.warn("flow timers", { error: (err as Error).message }))
				.finally(() => (this.ticking = undefined));
		}, TICK_MS);
	},
	async stopped() {
		clearInterval(this.ticker);
		await this.ticking;
		await this.timers.close();
	},
};

export default RunsService;
