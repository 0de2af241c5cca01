/**
 * The balances of sellers (and anyone paid out) as an append-only ledger: each entry of an owner and
 * currency has the next `seq` and the `balance` after it. Two unique indexes make it safe with any
 * number of nodes on a shared store: (owner, currency, seq) — two concurrent appends cannot both take
 * the same place, the loser re-reads and tries again — and (sourceKey) — the same order or payout is
 * never booked twice. A debit that would go below zero is 409 INSUFFICIENT_BALANCE (README, "Commerce domain").
 */
import { hasRole } from "../../lib/access";
import { currentTenantUser, type Ctx } from "../../lib/context";
import { ConflictError, InsufficientBalanceError, NotFoundError } from "../../lib/errors";
import { pageParams } from "../../lib/paging";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { TenantDbMixin, type TenantDbMethods } from "../../mixins/tenant.mixin";
import { currencyParam, idParam } from "./common";
import { checkCurrency } from "./money";

export interface LedgerEntry {
	id: string;
	ownerId: string;
	currency: string;
	amount: number;
	balance: number;
	seq: number;
	kind: string;
	sourceKey: string;
	createdAt: string;
}

interface AppendParams {
	ownerId: string;
	currency: string;
	amount: number;
	kind: string;
	sourceKey: string;
}

const idem = { type: "string", min: 1, max: 200 } as const;

const LedgerService: ServiceSchema<DbSettings, TenantDbMethods> = {
	name: "ledger",
	mixins: [
		TenantDbMixin({
			collection: "commerce_ledger",
			indexes: [
				{ fields: ["tenantId", "ownerId", "currency", "seq"], unique: true },
				{ fields: ["tenantId", "sourceKey"], unique: true },
			],
		}),
	],
	settings: { rest: "/commerce/balances", fields: ["id", "ownerId", "currency", "amount", "balance", "seq", "kind", "sourceKey", "createdAt"] },
	actions: {
		append: {
			visibility: "public",
			params: {
				ownerId: idParam,
				currency: currencyParam,
				amount: { type: "number", integer: true },
				kind: { type: "string", max: 40 },
				sourceKey: idem,
			},
			async handler(ctx: Ctx<AppendParams>) {
				const { ownerId, currency, amount, kind, sourceKey } = ctx.params;
				checkCurrency(currency);
				for (let attempt = 0; attempt < 50; attempt++) {
					const booked = await this.scopedFindOne(ctx, { sourceKey });
					if (booked) return this.toEntity(booked);
					const [last] = await this._find<LedgerEntry>(ctx, { query: { ownerId, currency }, sort: "-seq", limit: 1 });
					const balance = (last?.balance ?? 0) + amount;
					if (balance < 0) throw new InsufficientBalanceError(last?.balance ?? 0, currency);
					try {
						return await this._create<LedgerEntry>(ctx, {
							ownerId,
							currency,
							amount,
							balance,
							seq: (last?.seq ?? 0) + 1,
							kind,
							sourceKey,
						});
					} catch (err) {
						if (!(err instanceof ConflictError)) throw err;
						// someone took this seq (or booked this source) first: read again
					}
				}
				throw new ConflictError("The balance is changing too often; try again.", "BUSY");
			},
		},
		getBalance: {
			rest: "GET /:ownerId",
			roles: ["member"],
			summary: "An owner's available balance per currency, with the latest entries (your own; an admin anyone's).",
			params: { ownerId: idParam, ...pageParams, $$strict: "remove" },
			async handler(ctx: Ctx<{ ownerId: string; page: number; pageSize: number }>) {
				const { ownerId, page, pageSize } = ctx.params;
				const user = currentTenantUser(ctx);
				// a member sees their own balance; an admin anyone's (another's answers like a missing one)
				if (ownerId !== user.id && !hasRole(user.roles, ["admin"])) throw new NotFoundError("Not found.", ownerId);
				const entries = await this._list<LedgerEntry>(ctx, { query: { ownerId }, sort: "-createdAt", page, pageSize });
				const latest = new Map<string, LedgerEntry>();
				for (const e of await this.scopedScan<LedgerEntry>(ctx, { ownerId }, ["currency", "seq", "balance"]))
					if (!latest.has(e.currency) || latest.get(e.currency)!.seq < e.seq) latest.set(e.currency, e);
				const balances = [...latest.values()]
					.map(e => ({ currency: e.currency, available: e.balance }))
					.sort((a, b) => a.currency.localeCompare(b.currency));
				return { ownerId, balances, entries };
			},
		},
	},
};

export default LedgerService;
