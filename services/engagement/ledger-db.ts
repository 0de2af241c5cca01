/**
 * The ledger in the service's own collection (NeDB embedded, MongoDB with MONGO_URI): an append
 * reads the wallet's last entry, computes the next sequence and balance, and inserts; the unique
 * index on (tenantId, userId, currency, sequence) refuses a second entry at the same sequence, so of
 * two concurrent appends one lands and the other reads again and retries (compare-and-set). The
 * unique index on (tenantId, eventId) makes an award land once. A transfer inserts its two entries
 * in one insert (NeDB: all or nothing; MongoDB: the debit's sequence is claimed first, so a crash
 * between the two is the documented gap: README, "Engagement domain").
 */
import { Errors } from "moleculer";
import type { CallerScope } from "../../lib/context";
import { InsufficientFundsError } from "../../lib/errors";
import type { ListParams, Query, Row } from "../../mixins/tenant.mixin";
import { TEAM_OWNER_PREFIX, type AppendResult, type LedgerBackend, type LedgerEntry, type NewEntry } from "./ledger";

/** The tenant-scoped store methods the ledger uses (the gamification service's own). */
export interface LedgerStore {
	_find<T>(ctx: CallerScope, params?: ListParams): Promise<T[]>;
	_insert<T>(ctx: CallerScope, params: { entity?: Record<string, unknown>; entities?: Record<string, unknown>[] }): Promise<T>;
	scopedFindOne(ctx: CallerScope, query: Query): Promise<Row | null>;
	scopedScan<T extends object>(ctx: CallerScope, query: Query, fields: string[]): Promise<readonly T[]>;
	toEntity<T>(row: Row): T;
}

const MAX_ATTEMPTS = 50;

export class DbLedger implements LedgerBackend {
	constructor(private readonly store: LedgerStore) {}

	private async last(scope: CallerScope, userId: string, currency: string): Promise<{ sequence: number; balance: number }> {
		const [last] = await this.store._find<LedgerEntry>(scope, { query: { userId, currency }, sort: ["-sequence"], limit: 1 });
		return { sequence: last?.sequence ?? 0, balance: last?.balanceAfter ?? 0 };
	}

	private async landed(scope: CallerScope, eventId: string): Promise<LedgerEntry | null> {
		const row = await this.store.scopedFindOne(scope, { eventId });
		return row ? this.store.toEntity<LedgerEntry>(row) : null;
	}

	private row(e: NewEntry, sequence: number, balanceAfter: number): Record<string, unknown> {
		const { userId, currency, amount, reason, refType, refId, eventId, day } = e;
		return { userId, currency, amount, reason, refType, refId, eventId, day, sequence, balanceAfter, at: new Date().toISOString() };
	}

	/** Retries `attempt` while the store refuses it for a unique index, unless the eventId landed meanwhile. */
	private async withRetry<T>(
		scope: CallerScope,
		eventId: string,
		attempt: () => Promise<T>,
		duplicate: (e: LedgerEntry) => Promise<T>,
	): Promise<T> {
		for (let i = 0; ; i++) {
			const earlier = await this.landed(scope, eventId);
			if (earlier) return duplicate(earlier);
			try {
				return await attempt();
			} catch (err) {
				// the insert's only client error is a unique-index clash (409): someone appended first
				if (!(err instanceof Errors.MoleculerClientError) || err instanceof InsufficientFundsError || i >= MAX_ATTEMPTS) throw err;
				await new Promise(r => setTimeout(r, Math.random() * Math.min(50, 2 ** i)));
			}
		}
	}

	append(scope: CallerScope, e: NewEntry, noOverdraw: boolean): Promise<AppendResult> {
		return this.withRetry(
			scope,
			e.eventId,
			async () => {
				const { sequence, balance } = await this.last(scope, e.userId, e.currency);
				if (noOverdraw && balance + e.amount < 0) throw new InsufficientFundsError(e.currency, balance, -e.amount);
				const [entry] = await this.store._insert<LedgerEntry[]>(scope, { entities: [this.row(e, sequence + 1, balance + e.amount)] });
				return { entry, duplicate: false } as AppendResult;
			},
			async (entry): Promise<AppendResult> => ({ entry, duplicate: true }),
		);
	}

	transfer(scope: CallerScope, debit: NewEntry, credit: NewEntry) {
		return this.withRetry(
			scope,
			debit.eventId,
			async () => {
				const [a, b] = await Promise.all([this.last(scope, debit.userId, debit.currency), this.last(scope, credit.userId, credit.currency)]);
				if (a.balance + debit.amount < 0) throw new InsufficientFundsError(debit.currency, a.balance, -debit.amount);
				const [d, c] = await this.store._insert<LedgerEntry[]>(scope, {
					entities: [
						this.row(debit, a.sequence + 1, a.balance + debit.amount),
						this.row(credit, b.sequence + 1, b.balance + credit.amount),
					],
				});
				return { debit: d, credit: c, duplicate: false as boolean };
			},
			async d => ({ debit: d, credit: (await this.landed(scope, credit.eventId))!, duplicate: true }),
		);
	}

	async balances(scope: CallerScope, userId: string) {
		const rows = await this.store.scopedScan<{ currency: string; sequence: number; balanceAfter: number }>(scope, { userId }, [
			"currency",
			"sequence",
			"balanceAfter",
		]);
		const last = new Map<string, { sequence: number; balanceAfter: number }>();
		for (const r of rows) if ((last.get(r.currency)?.sequence ?? 0) < r.sequence) last.set(r.currency, r);
		return Object.fromEntries([...last.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([c, r]) => [c, r.balanceAfter]));
	}

	entries(scope: CallerScope, userId: string, currency: string, limit: number, before?: number) {
		const query: Query = { userId, currency, ...(before !== undefined && { sequence: { $lt: before } }) };
		return this.store._find<LedgerEntry>(scope, { query, sort: ["-sequence"], limit });
	}

	entriesOfRef(scope: CallerScope, refId: string) {
		return this.store._find<LedgerEntry>(scope, { query: { refId }, sort: ["sequence"], limit: 10_000 });
	}

	async walletsOf(scope: CallerScope, currency: string) {
		const rows = await this.store.scopedScan<{ userId: string; sequence: number; balanceAfter: number }>(scope, { currency }, [
			"userId",
			"sequence",
			"balanceAfter",
		]);
		const last = new Map<string, { sequence: number; balanceAfter: number }>();
		for (const r of rows) if (!r.userId.startsWith(TEAM_OWNER_PREFIX) && (last.get(r.userId)?.sequence ?? 0) < r.sequence) last.set(r.userId, r);
		return [...last.entries()].map(([userId, r]) => ({ userId, balance: r.balanceAfter }));
	}

	async close() {}
}
