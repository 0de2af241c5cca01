/**
 * The embedded job engine: an in-process queue with the semantics of the BullMQ one (statuses, attempts,
 * backoff with jitter, per-attempt timeout, cancel with an AbortSignal, dead letters, replay, priorities,
 * delays, idempotency keys). Records live in this process only: a restart forgets them (README, "Jobs,
 * schedules and analytics" → "Engines").
 */
import { createHash } from "node:crypto";
import { JobCancelledError, PermanentJobError } from "../../../lib/errors";
import { newId } from "../../../mixins/db.mixin";
import { retryDelayMs } from "./backoff";
import { runAttempt } from "./run";
import type { JobEngine, JobHandler, JobListQuery, JobRecord, JobSpec, WorkerInfo } from "./types";

interface Entry {
	record: JobRecord;
	spec: JobSpec;
	seq: number;
	/** not before this time (delay, backoff) */
	readyAt: number;
	timer?: NodeJS.Timeout;
	controller?: AbortController;
}

interface LocalWorker {
	concurrency: number;
	handler: JobHandler;
	active: number;
}

const MAX_LOG_LINES = 200;

export function idempotentId(spec: Pick<JobSpec, "tenantId" | "type" | "idempotencyKey">): string {
	return (
		"k" +
		createHash("sha256")
			.update(`${spec.tenantId ?? ""}\n${spec.type}\n${spec.idempotencyKey}`)
			.digest("base64url")
			.slice(0, 24)
	);
}

export class MemoryJobEngine implements JobEngine {
	readonly kind = "embedded" as const;
	private readonly entries = new Map<string, Entry>();
	private readonly workersByType = new Map<string, LocalWorker>();
	private seq = 0;
	private closed = false;
	private beatAt = Date.now();
	private readonly sweeper: NodeJS.Timeout;

	constructor(
		private readonly node: string,
		private readonly retentionMs: number,
	) {
		this.sweeper = setInterval(() => this.sweep(), Math.min(retentionMs, 60_000));
		this.sweeper.unref();
	}

	async knownTypes(): Promise<string[]> {
		return [...this.workersByType.keys()];
	}

	async enqueue(spec: JobSpec): Promise<JobRecord> {
		const id = spec.idempotencyKey ? idempotentId(spec) : newId();
		const existing = this.entries.get(id);
		if (existing) return copy(existing.record);
		const now = Date.now();
		const record: JobRecord = {
			id,
			type: spec.type,
			tenantId: spec.tenantId,
			status: "waiting",
			payload: spec.payload,
			priority: spec.priority ?? null,
			attempts: spec.attempts,
			attemptsMade: 0,
			progress: { percent: 0, message: null },
			result: null,
			error: null,
			logs: [],
			idempotencyKey: spec.idempotencyKey ?? null,
			createdAt: new Date(now).toISOString(),
			startedAt: null,
			finishedAt: null,
		};
		const entry: Entry = { record, spec, seq: ++this.seq, readyAt: now + (spec.delayMs ?? 0) };
		this.entries.set(id, entry);
		this.schedule(entry);
		return copy(record);
	}

	async get(id: string): Promise<JobRecord | null> {
		const e = this.entries.get(id);
		return e ? copy(e.record) : null;
	}

	async list(tenantId: string | null, q: JobListQuery) {
		const all = [...this.entries.values()]
			.filter(e => e.record.tenantId === tenantId && (!q.status || e.record.status === q.status) && (!q.type || e.record.type === q.type))
			.sort((a, b) => b.seq - a.seq);
		return { rows: all.slice((q.page - 1) * q.pageSize, q.page * q.pageSize).map(e => copy(e.record)), total: all.length };
	}

	async cancel(id: string): Promise<JobRecord | null> {
		const e = this.entries.get(id);
		if (!e) return null;
		const s = e.record.status;
		if (s === "active") {
			// cancelled from now on, as in BullMQ; the attempt ends as the signal aborts
			this.finish(e, "cancelled", { error: "The job was cancelled." });
			e.controller?.abort(new JobCancelledError());
		} else if (s === "waiting" || s === "failed") {
			clearTimeout(e.timer);
			this.finish(e, "cancelled", { error: "The job was cancelled." });
		} else return null;
		return copy(e.record);
	}

	abortLocal(id: string): void {
		this.entries.get(id)?.controller?.abort(new JobCancelledError());
	}

	async deadLetters(tenantId: string | null | undefined, q: { page: number; pageSize: number }) {
		const dead = [...this.entries.values()]
			.filter(e => e.record.status === "dead" && (tenantId === undefined || e.record.tenantId === tenantId))
			.sort((a, b) => b.seq - a.seq);
		return { rows: dead.slice((q.page - 1) * q.pageSize, q.page * q.pageSize).map(e => copy(e.record)), total: dead.length };
	}

	async replay(id: string): Promise<JobRecord | null> {
		const e = this.entries.get(id);
		if (!e || e.record.status !== "dead") return null;
		Object.assign(e.record, { status: "waiting", attemptsMade: 0, error: null, finishedAt: null });
		e.readyAt = Date.now();
		this.schedule(e);
		return copy(e.record);
	}

	async discard(id: string): Promise<boolean> {
		const e = this.entries.get(id);
		if (!e || e.record.status !== "dead") return false;
		this.entries.delete(id);
		return true;
	}

	async work(type: string, concurrency: number, handler: JobHandler): Promise<void> {
		this.workersByType.set(type, { concurrency, handler, active: 0 });
		this.pump(type);
	}

	async workers(): Promise<WorkerInfo[]> {
		// one process: its workers are alive whenever it answers; the heartbeat is the sweep's last run
		const at = new Date(this.beatAt).toISOString();
		return [...this.workersByType].map(([type, w]) => ({
			node: this.node,
			type,
			concurrency: w.concurrency,
			active: w.active,
			lastHeartbeat: at,
		}));
	}

	async close(): Promise<void> {
		this.closed = true;
		clearInterval(this.sweeper);
		for (const e of this.entries.values()) {
			clearTimeout(e.timer);
			e.controller?.abort(new JobCancelledError());
		}
	}

	/** Makes the entry runnable when its time comes. */
	private schedule(e: Entry): void {
		clearTimeout(e.timer);
		const wait = e.readyAt - Date.now();
		if (wait > 0) {
			// a timer may fire a millisecond before Date.now() reaches readyAt: it is ready when its timer fires
			e.timer = setTimeout(() => {
				e.readyAt = Math.min(e.readyAt, Date.now());
				this.pump(e.record.type);
			}, wait);
			e.timer.unref();
		} else queueMicrotask(() => this.pump(e.record.type));
	}

	private pump(type: string): void {
		const w = this.workersByType.get(type);
		if (!w || this.closed) return;
		while (w.active < w.concurrency) {
			const next = this.nextReady(type);
			if (!next) return;
			void this.runOne(next, w);
		}
	}

	/** Unprioritised jobs first (in order), then by priority (1 first), as BullMQ does. */
	private nextReady(type: string): Entry | undefined {
		const now = Date.now();
		let best: Entry | undefined;
		const key = (e: Entry) => [e.record.priority ?? 0, e.seq];
		for (const e of this.entries.values()) {
			if (e.record.type !== type || (e.record.status !== "waiting" && e.record.status !== "failed") || e.readyAt > now) continue;
			if (!best) best = e;
			else {
				const [pa, sa] = key(e);
				const [pb, sb] = key(best);
				if (pa < pb || (pa === pb && sa < sb)) best = e;
			}
		}
		return best;
	}

	private async runOne(e: Entry, w: LocalWorker): Promise<void> {
		const r = e.record;
		w.active++;
		r.status = "active";
		r.attemptsMade++;
		r.startedAt = new Date().toISOString();
		e.controller = new AbortController();
		try {
			const result = await runAttempt(
				w.handler,
				{
					id: r.id,
					type: r.type,
					tenantId: r.tenantId,
					payload: r.payload,
					attempt: r.attemptsMade,
					progress: async (percent, message) => void (r.progress = { percent: clampPercent(percent), message: message ?? null }),
					log: async line => {
						if (r.logs.length < MAX_LOG_LINES) r.logs.push(String(line).slice(0, 2000));
					},
				},
				{ timeoutMs: e.spec.timeoutMs, cancel: e.controller.signal },
			);
			this.finish(e, "completed", { result: result ?? null });
		} catch (err) {
			const message = (err as Error)?.message ?? String(err);
			if (err instanceof JobCancelledError) this.finish(e, "cancelled", { error: message });
			else if (err instanceof PermanentJobError || r.attemptsMade >= r.attempts) this.finish(e, "dead", { error: message });
			else {
				r.status = "failed";
				r.error = message;
				e.readyAt = Date.now() + retryDelayMs(e.spec.backoff, r.attemptsMade);
				this.schedule(e);
			}
		} finally {
			e.controller = undefined;
			w.active--;
			this.pump(r.type);
		}
	}

	private finish(e: Entry, status: JobRecord["status"], fields: Partial<JobRecord>): void {
		Object.assign(e.record, { status, finishedAt: new Date().toISOString(), ...fields });
		if (status === "completed") e.record.error = null;
	}

	/** Finished records older than the retention go; dead ones stay until replayed or discarded. */
	private sweep(): void {
		this.beatAt = Date.now();
		const cutoff = Date.now() - this.retentionMs;
		for (const [id, e] of this.entries)
			if ((e.record.status === "completed" || e.record.status === "cancelled") && Date.parse(e.record.finishedAt ?? "") < cutoff)
				this.entries.delete(id);
	}
}

export const clampPercent = (p: number) => Math.max(0, Math.min(100, Math.round(Number(p) || 0)));

const copy = (r: JobRecord): JobRecord => ({ ...r, progress: { ...r.progress }, logs: [...r.logs] });
