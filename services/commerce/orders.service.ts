/**
 * Orders of the social network: a buyer orders items from a seller and pays through a payment
 * (payments service, its own Idempotency-Key derived from the order's); a captured payment marks the
 * order paid and credits the seller's balance in the ledger exactly once (README, "Commerce domain").
 */
import { createHash } from "node:crypto";
import { hasRole } from "../../lib/access";
import { asSystem, currentTenantUser, type Ctx } from "../../lib/context";
import { InvalidTransitionError, NotFoundError } from "../../lib/errors";
import { pageParams } from "../../lib/paging";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { entityOf } from "../../middlewares/entity.middleware";
import { idempotencyKeyOf } from "../../middlewares/idempotency.middleware";
import { TenantDbMixin, tenantOf, type Row, type TenantDbMethods } from "../../mixins/tenant.mixin";
import { refuseCardData } from "./card-data";
import { currencyParam, idParam } from "./common";
import { checkLines, invoiceTotals, type Line, type LineInput } from "./invoice-math";
import { checkCurrency } from "./money";
import { PROVIDER_NAMES } from "./providers";

interface OrderRow extends Row {
	buyerId: string;
	sellerId: string;
	currency: string;
	items: Line[];
	total: number;
	status: "pending_payment" | "paid" | "cancelled";
	paymentId?: string;
}

interface Methods extends TenantDbMethods {
	/** the order if the caller is its buyer, its seller or an admin (null: 404) */
	loadVisible(ctx: Ctx<object>, id: string): Promise<OrderRow | null>;
	/** pending_payment → paid with the payment, then the seller's credit (booked once per order) */
	markPaid(ctx: Ctx<object>, row: OrderRow, paymentId: string): Promise<unknown>;
}

const item = {
	type: "object",
	strict: "remove",
	props: {
		description: { type: "string", min: 1, max: 500, trim: true },
		quantity: { type: "number", integer: true, min: 1, max: 10_000 },
		unitPrice: { type: "any" },
	},
} as const;

const OrdersService: ServiceSchema<DbSettings, Methods> = {
	name: "orders",
	mixins: [TenantDbMixin({ collection: "commerce_orders" })],
	settings: {
		rest: "/commerce/orders",
		fields: ["id", "buyerId", "sellerId", "currency", "items", "total", "status", "paymentId", "createdAt", "updatedAt"],
	},
	actions: {
		createOrder: {
			rest: "POST /",
			roles: ["member"],
			params: { sellerId: idParam, currency: currencyParam, items: { type: "array", min: 1, max: 100, items: item }, $$strict: "remove" },
			async handler(ctx: Ctx<{ sellerId: string; currency: string; items: LineInput[] }>) {
				refuseCardData(ctx.params);
				const { sellerId, currency } = ctx.params;
				checkCurrency(currency);
				const items = checkLines(ctx.params.items.map(i => ({ ...i, taxRate: "0" })));
				const order = await this._create<{ id: string }>(ctx, {
					buyerId: currentTenantUser(ctx).id,
					sellerId,
					currency,
					items,
					total: invoiceTotals(items).total,
					status: "pending_payment",
				});
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/commerce/orders/${order.id}`;
				return order;
			},
		},
		listOrders: {
			rest: "GET /",
			roles: ["member"],
			summary: "Orders you bought (`as=buyer`, the default) or sold (`as=seller`).",
			params: { ...pageParams, as: { type: "enum", values: ["buyer", "seller"], default: "buyer" }, $$strict: "remove" },
			handler(ctx: Ctx<{ page: number; pageSize: number; as: "buyer" | "seller" }>) {
				const { page, pageSize, as } = ctx.params;
				return this._list(ctx, {
					page,
					pageSize,
					sort: "-createdAt",
					query: { [as === "buyer" ? "buyerId" : "sellerId"]: currentTenantUser(ctx).id },
				});
			},
		},
		getOrder: {
			rest: "GET /:id",
			roles: ["member"],
			entity: "loadVisible",
			params: { id: idParam, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this.toEntity(entityOf<OrderRow>(ctx));
			},
		},
		payOrder: {
			rest: "POST /:id/pay",
			roles: ["member"],
			idempotencyKey: "required",
			entity: "loadVisible",
			summary: "The buyer pays the order with a provider token; a captured payment marks it paid and credits the seller.",
			params: {
				id: idParam,
				paymentMethod: { type: "string", min: 1, max: 255 },
				provider: { type: "enum", values: [...PROVIDER_NAMES], optional: true },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<{ id: string; paymentMethod: string; provider?: string }>) {
				const row = entityOf<OrderRow>(ctx);
				if (row.buyerId !== currentTenantUser(ctx).id) throw new NotFoundError("Not found.", row._id);
				if (row.status !== "pending_payment") throw new InvalidTransitionError("order", row.status, "paid");
				const derived = `order:${row._id}:${createHash("sha256")
					.update(idempotencyKeyOf(ctx) ?? row._id)
					.digest("hex")
					.slice(0, 32)}`;
				const { $statusCode, $location, $responseHeaders } = ctx.meta;
				const payment = (await ctx.call(
					"payments.createPayment",
					{
						amount: row.total,
						currency: row.currency,
						paymentMethod: ctx.params.paymentMethod,
						provider: ctx.params.provider,
						orderId: row._id,
						description: `Order ${row._id}`,
					},
					{ meta: { headers: { "idempotency-key": derived } } },
				)) as { id: string; status: string; nextAction?: unknown };
				// the payment's own answer (201, its Location) is not the order's
				Object.assign(ctx.meta, { $statusCode, $location, $responseHeaders });
				if (payment.status === "captured") await this.markPaid(ctx, row, payment.id);
				else await this.scopedUpdateWhere(ctx, { _id: row._id, status: "pending_payment" }, { paymentId: payment.id });
				return { ...(await this._get(ctx, { id: row._id })), payment };
			},
		},
		/** A payment of an order captured later (payments service, on the provider's webhook). */
		paymentCaptured: {
			visibility: "public",
			params: { id: idParam, paymentId: idParam },
			async handler(ctx: Ctx<{ id: string; paymentId: string }>) {
				const row = await this.scopedFindById<OrderRow>(ctx, ctx.params.id);
				if (!row || row.status !== "pending_payment") return null;
				await this.markPaid(ctx, row, ctx.params.paymentId);
				return this._get(ctx, { id: row._id });
			},
		},
	},
	methods: {
		async loadVisible(ctx, id) {
			const row = await this.scopedFindById<OrderRow>(ctx, id);
			const user = currentTenantUser(ctx);
			return row && (row.buyerId === user.id || row.sellerId === user.id || hasRole(user.roles, ["admin"])) ? row : null;
		},
		async markPaid(ctx, row, paymentId) {
			await this.scopedUpdateWhere(ctx, { _id: row._id, status: "pending_payment" }, { status: "paid", paymentId });
			const now = await this.scopedFindById<OrderRow>(ctx, row._id);
			if (now?.status !== "paid" || now.paymentId !== paymentId) throw new InvalidTransitionError("order", now?.status ?? "gone", "paid");
			// booked once per order whoever gets here (a retry, a webhook): the ledger's unique sourceKey
			await ctx.call(
				"ledger.append",
				{ ownerId: row.sellerId, currency: row.currency, amount: row.total, kind: "order", sourceKey: `order:${row._id}` },
				asSystem(tenantOf(ctx)),
			);
		},
	},
};

export default OrdersService;
