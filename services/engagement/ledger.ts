/**
 * Wallets are a ledger: append-only entries per (tenant, user, currency), numbered by a per-wallet
 * `sequence`, each carrying the running `balanceAfter` (= the sum of the wallet's amounts). Two
 * guarantees, kept by the store itself so they hold across nodes without a lock:
 * - an `eventId` lands once (a redelivered event pays once): a unique index / a Redis hash;
 * - a spend never overdraws: the balance check and the append are one atomic step — a
 *   compare-and-set on (wallet, sequence) with retry (ledger-db.ts), or one Lua script (ledger-redis.ts).
 * README, "Engagement domain" → "Wallets and the ledger".
 */
import type { CallerScope } from "../../lib/context";

export interface LedgerEntry {
	id: string;
	userId: string;
	currency: string;
	/** integer; negative for spends, debits and reversals */
	amount: number;
	balanceAfter: number;
	sequence: number;
	reason: string;
	refType: string | null;
	refId: string | null;
	eventId: string;
	/** the UTC day the fact happened (streaks count days), when the entry records one */
	day: string | null;
	at: string;
}

export type NewEntry = Omit<LedgerEntry, "id" | "balanceAfter" | "sequence" | "at">;

export interface AppendResult {
	entry: LedgerEntry;
	/** the eventId had landed before: nothing was written, `entry` is the earlier one */
	duplicate: boolean;
}

/** One storage of the ledger; every call acts inside the caller's tenant. */
export interface LedgerBackend {
	/** Appends one entry; with `noOverdraw` it refuses (InsufficientFundsError) when the balance would go below 0. */
	append(scope: CallerScope, entry: NewEntry, noOverdraw: boolean): Promise<AppendResult>;
	/** Appends a debit and a credit as one (the debit refuses to overdraw). Both share `debit.eventId`'s fate. */
	transfer(scope: CallerScope, debit: NewEntry, credit: NewEntry): Promise<{ debit: LedgerEntry; credit: LedgerEntry; duplicate: boolean }>;
	balances(scope: CallerScope, userId: string): Promise<Record<string, number>>;
	/** A wallet's entries, newest first, `before` a sequence when given. */
	entries(scope: CallerScope, userId: string, currency: string, limit: number, before?: number): Promise<LedgerEntry[]>;
	/** Every entry made for a source fact (`refId`), for its reversal. */
	entriesOfRef(scope: CallerScope, refId: string): Promise<LedgerEntry[]>;
	/** Every user wallet of one currency in the tenant with its balance (team wallets left out), in no order. */
	walletsOf(scope: CallerScope, currency: string): Promise<{ userId: string; balance: number }[]>;
	close(): Promise<void>;
}

/**
 * A wallet's owner is a user or a team; the ledger keys a team's wallet by `team:<teamId>` in the
 * entry's `userId` (user ids never start so: the public user-id params refuse it), so team wallets
 * share every guarantee above. README, "Engagement domain" → "Teams and team wallets".
 */
export const TEAM_OWNER_PREFIX = "team:";
export const teamOwner = (teamId: string) => `${TEAM_OWNER_PREFIX}${teamId}`;

/** Internal counters (badge criteria) and badges share the ledger's guarantees; callers never see them as currencies. */
export const STAT_PREFIX = "stat:";
export const BADGE_PREFIX = "badge:";
/** an unlocked skill: one entry of `skill:<key>` */
export const SKILL_PREFIX = "skill:";
export const isInternalCurrency = (c: string) => [STAT_PREFIX, BADGE_PREFIX, SKILL_PREFIX].some(p => c.startsWith(p));
