/** What the gamification service keeps and calls: `this` and the methods its modules add. */
import type { CallerScope, Ctx } from "../../../lib/context";
import type { DbSettings, ServiceThis } from "../../../lib/schema";
import type { TenantDbMethods } from "../../../mixins/tenant.mixin";
import type { CompletedEvent, Counter, GameSettings } from "../game-rules";
import type { LedgerBackend, LedgerEntry, NewEntry } from "../ledger";

/** any action context of this service (methods take the caller whatever its params) */
export type AnyCtx = Ctx<object>;

export interface SpendParams {
	currency: string;
	amount: number;
	reason: string;
	refType?: string;
	refId?: string;
	idempotencyKey?: string;
}
export interface TransferParams {
	toUserId: string;
	currency: string;
	amount: number;
	reason: string;
	idempotencyKey?: string;
}
export interface ReopenedEvent {
	tenantId: string;
	userId: string;
	eventId: string;
	completedEventId: string;
}

export interface GamificationMethods extends TenantDbMethods {
	// wallet.ts
	game(scope: CallerScope): Promise<GameSettings>;
	requireCurrency(scope: CallerScope, currency: string): Promise<void>;
	entry(e: Partial<NewEntry> & Pick<NewEntry, "userId" | "currency" | "amount" | "eventId">): NewEntry;
	idempotencyKey(ctx: AnyCtx, param?: string): string | undefined;
	spendOwn(ctx: Ctx<SpendParams>): Promise<LedgerEntry>;
	transferOwn(ctx: Ctx<TransferParams>): Promise<{ debit: LedgerEntry; credit: LedgerEntry }>;
	// progress.ts
	summary(scope: CallerScope, userId: string): Promise<Record<string, unknown>>;
	counters(scope: CallerScope, userId: string, day?: string): Promise<Record<Counter, number>>;
	checkBadges(scope: CallerScope, userId: string): Promise<string[]>;
	// task-payouts.ts
	onCompleted(e: CompletedEvent): Promise<void>;
	onReopened(e: ReopenedEvent): Promise<void>;
}
export interface GamificationVars {
	ledger: LedgerBackend;
	/** what this node handled (operators, and the cluster test: both nodes took part) */
	handled: { spends: number; events: number };
}

export type GamificationThis = ServiceThis<DbSettings, GamificationMethods, GamificationVars>;

/** Some of the gamification methods, written in a module beside the service (`this` is the service). */
export type GamificationMethodsOf<K extends keyof GamificationMethods> = Pick<GamificationMethods, K> & ThisType<GamificationThis>;
