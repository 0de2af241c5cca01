/**
 * The wallet side: the tenant's game settings and currencies, the entry shape, and the caller's own
 * spends and transfers (never below 0; an idempotency key makes a retry land once).
 */
import { randomUUID } from "node:crypto";
import { currentTenantUser, type CallerScope, type Ctx } from "../../../lib/context";
import { InvalidInputError, UnknownCurrencyError } from "../../../lib/errors";
import type { GameSettings } from "../game-rules";
import { requireMembers } from "../members";
import type { AnyCtx, GamificationMethodsOf, SpendParams, TransferParams } from "./types";

export const walletMethods: GamificationMethodsOf<"game" | "requireCurrency" | "idempotencyKey" | "entry" | "spendOwn" | "transferOwn"> = {
	game(scope: CallerScope) {
		return this.broker.call<GameSettings, object>("gamesettings.forTenant", {}, { meta: scope.meta });
	},
	async requireCurrency(scope: CallerScope, currency: string) {
		if (!(await this.game(scope)).currencies.includes(currency)) throw new UnknownCurrencyError(currency);
	},
	idempotencyKey(ctx: AnyCtx, param?: string) {
		const header = ctx.meta.headers?.["idempotency-key"];
		return param ?? (typeof header === "string" ? header : undefined);
	},
	entry(e) {
		return { reason: "", ...e, refType: e.refType ?? null, refId: e.refId ?? null, day: e.day ?? null };
	},
	async spendOwn(ctx: Ctx<SpendParams>) {
		const user = currentTenantUser(ctx);
		const { currency, amount, reason, refType, refId } = ctx.params;
		this.handled.spends++;
		await this.requireCurrency(ctx, currency);
		const key = this.idempotencyKey(ctx, ctx.params.idempotencyKey);
		const eventId = key ? `spend:${user.id}:${key}` : `spend:${randomUUID()}`;
		const { entry, duplicate } = await this.ledger.append(
			ctx,
			this.entry({ userId: user.id, currency, amount: -amount, reason, refType, refId, eventId }),
			true,
		);
		ctx.meta.$statusCode = duplicate ? 200 : 201;
		// no GET of one entry: your ledger in that currency, which lists it
		ctx.meta.$location = `/api/gamification/ledger/${encodeURIComponent(currency)}`;
		return entry;
	},
	async transferOwn(ctx: Ctx<TransferParams>) {
		const user = currentTenantUser(ctx);
		const { toUserId, currency, amount, reason } = ctx.params;
		if (toUserId === user.id)
			throw new InvalidInputError("A transfer needs another recipient.", [{ field: "toUserId", message: "must not be yourself" }]);
		await this.requireCurrency(ctx, currency);
		await requireMembers(this, ctx, user.tenantId, [toUserId], "toUserId");
		const key = this.idempotencyKey(ctx, ctx.params.idempotencyKey);
		const id = key ? `${user.id}:${key}` : randomUUID();
		const result = await this.ledger.transfer(
			ctx,
			this.entry({
				userId: user.id,
				currency,
				amount: -amount,
				reason,
				refType: "transfer",
				refId: `transfer:${id}`,
				eventId: `transfer:${id}:debit`,
			}),
			this.entry({
				userId: toUserId,
				currency,
				amount,
				reason,
				refType: "transfer",
				refId: `transfer:${id}`,
				eventId: `transfer:${id}:credit`,
			}),
		);
		ctx.meta.$statusCode = result.duplicate ? 200 : 201;
		// your ledger in that currency, which lists the debit
		ctx.meta.$location = `/api/gamification/ledger/${encodeURIComponent(currency)}`;
		return { debit: result.debit, credit: result.credit };
	},
};
