/**
 * Analytics events, per tenant (README, "Jobs, schedules and analytics" → "Analytics"):
 * `POST /api/analytics/events` (batches of up to 500), the channel `analytics.events` any service
 * publishes to (`{ tenantId, name, at?, userId?, properties?, id? }`), and the domain channels it
 * counts by itself (`leads.created`, `leads.won`, `auth.loggedIn` of a tenant). Each accepted event is
 * stored raw (kept ANALYTICS_RAW_RETENTION_DAYS) and added to its hour and day buckets
 * (`analyticsmetrics`). An event carrying an id (a channel message's eventId) counts once. Each UTC day
 * a batch touches gets an `analytics.rebuild` job for the night after (REBUILD_AT_UTC_MINUTE), which
 * puts that day's buckets right from the raw events should an increment have been lost.
 */
import { asSystem, currentTenantUser, type Ctx } from "../../lib/context";
import { config } from "../../lib/config";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { newId } from "../../mixins/db.mixin";
import { TenantDbMixin, tenantOf, type TenantDbMethods, type TenantScope } from "../../mixins/tenant.mixin";
import { bucketDeltas, checkEvents, eventRule, MAX_BATCH, validateEvent, type EventInput, type RawEvent } from "./analytics/events";
import { REBUILD_JOB } from "./analyticsmetrics.service";

/** The channel other services publish events to. */
export const EVENTS_CHANNEL = "analytics.events";
/** How often one node purges a tenant's expired raw events (at its next ingest). */
const PURGE_EVERY_MS = 3600_000;
/** When a day's nightly rebuild runs: this many minutes after the UTC midnight that ends it (03:45). */
export const REBUILD_AT_UTC_MINUTE = 3 * 60 + 45;
const DAY = 86_400_000;

/** The nightly rebuild of the UTC day starting at `dayMs`, as seen at `now`: when it runs and its key (one per day and night). */
export function nightlyRebuild(dayMs: number, now: number): { runAt: number; key: string } {
	let runAt = dayMs + DAY + REBUILD_AT_UTC_MINUTE * 60_000;
	// a late (or backfilled) event of a day whose rebuild already ran: the next night rebuilds it again
	while (runAt <= now) runAt += DAY;
	return { runAt, key: `nightly-${new Date(dayMs).toISOString().slice(0, 10)}-${new Date(runAt).toISOString().slice(0, 10)}` };
}

interface Methods extends TenantDbMethods {
	ingest(ctx: TenantScope, events: EventInput[]): Promise<{ accepted: number; duplicates: number }>;
	purgeExpired(ctx: TenantScope): Promise<void>;
	fromDomain(ctx: Ctx<Record<string, unknown>>, name: string): Promise<void>;
	markForRebuild(ctx: TenantScope, events: RawEvent[]): Promise<void>;
}

interface Vars {
	purgedAt: Map<string, number>;
	/** nightly rebuilds this node already enqueued (tenant, day, night) */
	rebuildsMarked: Set<string>;
}

const AnalyticsService: ServiceSchema<DbSettings & { rest: string }, Methods, Vars> = {
	name: "analytics",
	mixins: [TenantDbMixin({ collection: "analytics_events", indexes: [{ fields: ["tenantId", "eventId"], unique: true }, { fields: ["at"] }] })],
	settings: {
		rest: "/analytics",
		fields: ["id", "eventId", "name", "at", "userId", "properties"],
	},
	actions: {
		ingestEvents: {
			rest: "POST /events",
			scopes: ["analytics:write"],
			roles: ["member"],
			bodyLimit: "512kb",
			params: { events: { type: "array", min: 1, max: MAX_BATCH, items: eventRule }, $$strict: "remove" },
			async handler(ctx: Ctx<{ events: EventInput[] }>) {
				currentTenantUser(ctx);
				ctx.meta.$statusCode = 202;
				return this.ingest(ctx, ctx.params.events);
			},
		},
		/** For services and tests: raw events of the caller's tenant in [from, to) (reports, insights, checks). */
		rawEvents: {
			visibility: "public",
			params: { from: { type: "date", convert: true }, to: { type: "date", convert: true }, name: { type: "string", max: 64, optional: true } },
			async handler(ctx: Ctx<{ from: Date; to: Date; name?: string }>) {
				const { from, to, name } = ctx.params;
				const rows = await this.scopedScan<RawEvent>(
					ctx,
					{ at: { $gte: from.toISOString(), $lt: to.toISOString() }, ...(name ? { name } : {}) },
					["eventId", "name", "at", "userId", "properties"],
				);
				return rows.map(r => ({ eventId: r.eventId, name: r.name, at: r.at, userId: r.userId, properties: r.properties }));
			},
		},
	},
	channels: {
		[EVENTS_CHANNEL]: {
			group: "analytics",
			maxRetries: 5,
			async handler(ctx: Ctx<Record<string, unknown>>) {
				const { tenantId, ...event } = ctx.params;
				if (typeof tenantId !== "string" || !tenantId) {
					this.logger.warn("analytics event without a tenant dropped", { name: event.name });
					return;
				}
				await this.ingest(asSystem(tenantId), [validateEvent(event)]);
			},
		},
		"leads.created": {
			group: "analytics",
			maxRetries: 5,
			handler(ctx: Ctx<Record<string, unknown>>) {
				return this.fromDomain(ctx, "leads.created");
			},
		},
		"leads.won": {
			group: "analytics",
			maxRetries: 5,
			handler(ctx: Ctx<Record<string, unknown>>) {
				return this.fromDomain(ctx, "leads.won");
			},
		},
		"auth.loggedIn": {
			group: "analytics",
			maxRetries: 5,
			handler(ctx: Ctx<Record<string, unknown>>) {
				return this.fromDomain(ctx, "auth.loggedIn");
			},
		},
	},
	methods: {
		async ingest(ctx: TenantScope, events: EventInput[]) {
			const cfg = config();
			const now = Date.now();
			checkEvents(events, now, cfg.ANALYTICS_RAW_RETENTION_DAYS);
			const rows: RawEvent[] = events.map(e => ({
				eventId: e.id ?? newId(),
				name: e.name,
				at: (e.at ?? new Date(now)).toISOString(),
				userId: e.userId ?? null,
				properties: e.properties ?? {},
			}));
			// an id seen before (a redelivered message, a retried batch) counts once
			const ids = [...new Set(rows.filter((_, i) => events[i].id).map(r => r.eventId))];
			const seen = ids.length
				? new Set((await this.scopedScan<RawEvent>(ctx, { eventId: { $in: ids } }, ["eventId"])).map(r => r.eventId))
				: new Set<string>();
			const fresh = rows.filter((r, i) => !seen.has(r.eventId) && rows.findIndex(x => x.eventId === r.eventId) === i);
			if (fresh.length) {
				await this._insert(ctx, { entities: fresh.map(r => ({ ...r })) });
				await this.broker.call("analyticsmetrics.record", { deltas: bucketDeltas(fresh) }, { meta: ctx.meta });
				void this.markForRebuild(ctx, fresh).catch(err =>
					this.logger.warn("could not enqueue the nightly analytics rebuild", { error: (err as Error).message }),
				);
			}
			void this.purgeExpired(ctx).catch(err => this.logger.warn("could not purge expired analytics events", { error: (err as Error).message }));
			return { accepted: fresh.length, duplicates: rows.length - fresh.length };
		},
		async markForRebuild(ctx: TenantScope, events: RawEvent[]) {
			const tenantId = tenantOf(ctx);
			const now = Date.now();
			if (!this.broker.registry.getServiceList({ onlyAvailable: true }).some(s => s.name === "jobs")) return; // no job engine in this deployment: rebuilds are on demand only
			if (this.rebuildsMarked.size > 10_000) this.rebuildsMarked.clear();
			for (const dayMs of new Set(events.map(e => Math.floor(Date.parse(e.at) / DAY) * DAY))) {
				const { runAt, key } = nightlyRebuild(dayMs, now);
				if (this.rebuildsMarked.has(`${tenantId}|${key}`)) continue;
				// the same key again (another node, a restart) answers the job already waiting
				await this.broker.call("jobs.add", {
					type: REBUILD_JOB,
					tenantId,
					payload: { from: new Date(dayMs).toISOString(), to: new Date(dayMs + DAY).toISOString() },
					delayMs: runAt - now,
					idempotencyKey: key,
				});
				this.rebuildsMarked.add(`${tenantId}|${key}`);
			}
		},
		async purgeExpired(ctx: TenantScope) {
			const tenantId = tenantOf(ctx);
			const last = this.purgedAt.get(tenantId) ?? 0;
			if (Date.now() - last < PURGE_EVERY_MS) return;
			this.purgedAt.set(tenantId, Date.now());
			const cutoff = new Date(Date.now() - config().ANALYTICS_RAW_RETENTION_DAYS * 86_400_000).toISOString();
			await this.scopedRemoveWhere(ctx, { at: { $lt: cutoff } });
		},
		async fromDomain(ctx: Ctx<Record<string, unknown>>, name: string) {
			const m = ctx.params;
			if (typeof m.tenantId !== "string" || !m.tenantId) return; // tenantless (a login outside any tenant): not counted
			const userId = [m.actorId, m.userId].find((v): v is string => typeof v === "string");
			const properties: Record<string, string> = {};
			for (const k of ["source", "status"]) if (typeof m[k] === "string") properties[k] = String(m[k]).slice(0, 200);
			await this.ingest(asSystem(m.tenantId), [
				validateEvent({
					id: typeof m.eventId === "string" ? m.eventId : undefined,
					name,
					at: typeof m.at === "string" ? m.at : undefined,
					...(userId ? { userId: userId.slice(0, 128) } : {}),
					properties,
				}),
			]);
		},
	},
	created() {
		this.purgedAt = new Map();
		this.rebuildsMarked = new Set();
	},
};

export default AnalyticsService;
