/**
 * The embedded job engine: an in-process queue with the semantics of the BullMQ one (statuses, attempts,
 * backoff with jitter, per-attempt timeout, cancel with an AbortSignal, dead letters, replay, priorities,
 * delays, idempotency keys). The queue runs in memory; every record is written through to the embedded
 * store (collection `jobs`: the NeDB file under DATA_DIR, or Mongo), so a restart on the same DATA_DIR
 * finds its jobs again: waiting and delayed ones are queued again at their time, and one that was
 * active is an interrupted attempt — counted, and retried as BullMQ retries a stalled job (at most
 * MAX_INTERRUPTIONS times, then dead). README, "Jobs, schedules and analytics" → "Engines".
 */
import { createHash } from "node:crypto";
import type { ServiceBroker } from "moleculer";
import { JobCancelledError, PermanentJobError } from "../../../lib/errors";
import { Collection } from "../../../mixins/collection";
import { newId } from "../../../mixins/db.mixin";
import type { Scoped } from "../../../mixins/tenant-records.mixin";
import { retryDelayMs } from "./backoff";
import { runAttempt } from "./run";
import type { JobEngine, JobHandler, JobListQuery, JobRecord, JobSpec, WorkerInfo } from "./types";

interface Entry {
	record: JobRecord;
	spec: JobSpec;
	seq: number;
	/** not before this time (delay, backoff) */
	readyAt: number;
	/** attempts a stopped process left unfinished */
	interruptions: number;
	timer?: NodeJS.Timeout;
	controller?: AbortController;
	/** the entry's writes to the store, in order */
	writing: Promise<unknown>;
}

/** A job as the store keeps it: the record and its spec as JSON (a payload's keys may be anything, NeDB's may not). */
interface StoredJob {
	id: string;
	seq: number;
	status: string;
	json: string;
}

/** An attempt interrupted more often than this (BullMQ's maxStalledCount) makes the job dead. */
export const MAX_INTERRUPTIONS = 2;

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
	private readonly store = new Collection<StoredJob>({ collection: "jobs" });
	private opening?: Promise<void>;
	private readonly pending = new Set<Promise<unknown>>();
	private logger?: ReturnType<ServiceBroker["getLogger"]>;

	constructor(
		private readonly node: string,
		private readonly retentionMs: number,
	) {
		this.sweeper = setInterval(() => this.sweep(), Math.min(retentionMs, 60_000));
		this.sweeper.unref();
	}

	/** Opens the store and takes up the jobs a previous process left (once; every user of the engine calls it). */
	open(broker: ServiceBroker): Promise<void> {
		return (this.opening ??= (async () => {
			this.logger = broker.getLogger("jobs");
			await this.store.open(broker);
			for (const doc of await this.store.find({}, { sort: ["seq"] })) {
				const { record, spec, readyAt, interruptions } = JSON.parse(doc.json) as Pick<Entry, "record" | "spec" | "readyAt" | "interruptions">;
				const e: Entry = { record, spec, seq: doc.seq, readyAt, interruptions: interruptions ?? 0, writing: Promise.resolve() };
				this.seq = Math.max(this.seq, doc.seq);
				this.entries.set(record.id, e);
				if (record.status === "active") {
					// the attempt ran (it is counted) and never finished: retried now, as BullMQ retries a stalled job
					e.interruptions++;
					const message = `Attempt ${record.attemptsMade} was interrupted: the process stopped.`;
					if (e.interruptions > MAX_INTERRUPTIONS) this.finish(e, "dead", { error: `${message} (${e.interruptions} times)` });
					else {
						Object.assign(record, { status: "failed", error: message });
						e.readyAt = Date.now();
						this.save(e);
					}
				}
				if (record.status === "waiting" || record.status === "failed") this.schedule(e);
			}
		})());
	}

	private ready(): Promise<void> {
		if (!this.opening) throw new Error("the job engine is not open yet");
		return this.opening;
	}

	/** Writes the entry's current state through to the store (in order, after its earlier writes). */
	private save(e: Entry): void {
		const doc = {
			seq: e.seq,
			status: e.record.status,
			json: JSON.stringify({ record: e.record, spec: e.spec, readyAt: e.readyAt, interruptions: e.interruptions }),
		};
		const write = e.writing
			.then(() => this.store.update({ id: e.record.id }, doc))
			.catch(err => this.logger?.warn("a job record could not be stored", { id: e.record.id, error: (err as Error).message }));
		e.writing = write;
		this.pending.add(write);
		void write.finally(() => this.pending.delete(write));
	}

	async knownTypes(): Promise<string[]> {
		return [...this.workersByType.keys()];
	}

	async enqueue(spec: JobSpec): Promise<JobRecord> {
		await this.ready();
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
		const entry: Entry = { record, spec, seq: ++this.seq, readyAt: now + (spec.delayMs ?? 0), interruptions: 0, writing: Promise.resolve() };
		this.entries.set(id, entry);
		// stored before it is acknowledged: an accepted job survives a restart
		const doc = { id, seq: entry.seq, status: record.status, json: JSON.stringify({ record, spec, readyAt: entry.readyAt, interruptions: 0 }) };
		entry.writing = this.store.insert(doc);
		try {
			await entry.writing;
		} catch (err) {
			this.entries.delete(id);
			throw err;
		}
		this.schedule(entry);
		return copy(record);
	}

	async get(id: string): Promise<JobRecord | null> {
		await this.ready();
		const e = this.entries.get(id);
		return e ? copy(e.record) : null;
	}

	async list(tenantId: string | null, q: JobListQuery) {
		await this.ready();
		const all = [...this.entries.values()]
			.filter(e => e.record.tenantId === tenantId && (!q.status || e.record.status === q.status) && (!q.type || e.record.type === q.type))
			.sort((a, b) => b.seq - a.seq);
		return { rows: all.slice((q.page - 1) * q.pageSize, q.page * q.pageSize).map(e => copy(e.record)), total: all.length };
	}

	async cancel({ id }: Scoped<JobRecord>): Promise<JobRecord | null> {
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
		await this.ready();
		const dead = [...this.entries.values()]
			.filter(e => e.record.status === "dead" && (tenantId === undefined || e.record.tenantId === tenantId))
			.sort((a, b) => b.seq - a.seq);
		return { rows: dead.slice((q.page - 1) * q.pageSize, q.page * q.pageSize).map(e => copy(e.record)), total: dead.length };
	}

	async replay({ id }: Scoped<JobRecord>): Promise<JobRecord | null> {
		const e = this.entries.get(id);
		if (!e || e.record.status !== "dead") return null;
		Object.assign(e.record, { status: "waiting", attemptsMade: 0, error: null, finishedAt: null });
		e.readyAt = Date.now();
		e.interruptions = 0;
		this.save(e);
		this.schedule(e);
		return copy(e.record);
	}

	async discard({ id }: Scoped<JobRecord>): Promise<boolean> {
		const e = this.entries.get(id);
		if (!e || e.record.status !== "dead") return false;
		this.entries.delete(id);
		await e.writing;
		await this.store.remove({ id });
		return true;
	}

	async work(type: string, concurrency: number, handler: JobHandler): Promise<void> {
		await this.ready();
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

	/** Stops running jobs; an active one stays active in the store (the next start takes it up as interrupted). */
	async close(): Promise<void> {
		this.closed = true;
		clearInterval(this.sweeper);
		for (const e of this.entries.values()) {
			clearTimeout(e.timer);
			e.controller?.abort(new JobCancelledError());
		}
		while (this.pending.size) await Promise.all([...this.pending]);
		if (this.opening) await this.opening.then(() => this.store.close()).catch(() => undefined);
	}

	/** Makes the entry runnable when its time comes. */
	private schedule(e: Entry): void {
		clearTimeout(e.timer);
		const wait = e.readyAt - Date.now();
		if (wait > 0) {
			// timers run on a monotonic clock and may fire a millisecond before Date.now() reaches readyAt:
			// scheduling again arms the rest, so a job neither runs early nor stays stuck waiting
			e.timer = setTimeout(() => this.schedule(e), wait);
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
		this.save(e);
		try {
			const result = await runAttempt(
				w.handler,
				{
					id: r.id,
					type: r.type,
					tenantId: r.tenantId,
					payload: r.payload,
					attempt: r.attemptsMade,
					progress: async (percent, message) => {
						r.progress = { percent: clampPercent(percent), message: message ?? null };
						this.save(e);
					},
					log: async line => {
						if (r.logs.length < MAX_LOG_LINES) r.logs.push(String(line).slice(0, 2000));
						this.save(e);
					},
				},
				{ timeoutMs: e.spec.timeoutMs, cancel: e.controller.signal },
			);
			if (this.closed) return;
			this.finish(e, "completed", { result: result ?? null });
		} catch (err) {
			// stopping: the attempt stays active in the store, an interrupted one for the next start
			if (this.closed) return;
			const message = (err as Error)?.message ?? String(err);
			if (err instanceof JobCancelledError) this.finish(e, "cancelled", { error: message });
			else if (err instanceof PermanentJobError || r.attemptsMade >= r.attempts) this.finish(e, "dead", { error: message });
			else {
				r.status = "failed";
				r.error = message;
				e.readyAt = Date.now() + retryDelayMs(e.spec.backoff, r.attemptsMade);
				this.save(e);
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
		this.save(e);
	}

	/** Finished records older than the retention go; dead ones stay until replayed or discarded. */
	private sweep(): void {
		this.beatAt = Date.now();
		const cutoff = Date.now() - this.retentionMs;
		for (const [id, e] of this.entries)
			if ((e.record.status === "completed" || e.record.status === "cancelled") && Date.parse(e.record.finishedAt ?? "") < cutoff) {
				this.entries.delete(id);
				const gone = e.writing.then(() => this.store.remove({ id })).catch(() => undefined);
				this.pending.add(gone);
				void gone.finally(() => this.pending.delete(gone));
			}
	}
}

export const clampPercent = (p: number) => Math.max(0, Math.min(100, Math.round(Number(p) || 0)));

const copy = (r: JobRecord): JobRecord => ({ ...r, progress: { ...r.progress }, logs: [...r.logs] });
