/**
 * A customer's payment methods: provider tokens only (a Stripe `pm_…`, a PayPal vault id, a sandbox
 * test token), never card data. A body holding anything shaped like a card number is refused with 422
 * before it is validated against patterns, stored or logged (card-data.ts).
 */
import { currentUser, type Ctx } from "../../lib/context";
import { InvalidInputError } from "../../lib/errors";
import { pageParams } from "../../lib/paging";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { removeByIdAction, TenantDbMixin, type TenantDbMethods } from "../../mixins/tenant.mixin";
import { refuseCardData } from "./card-data";
import { idParam, textParam } from "./common";
import { PROVIDER_NAMES } from "./providers";

/** What a provider token looks like: a short identifier, no spaces (no pattern in `params`: its error would name the input). */
const TOKEN = /^[A-Za-z][\w-]{2,254}$/;

const PaymentMethodsService: ServiceSchema<DbSettings, TenantDbMethods> = {
	name: "paymentmethods",
	mixins: [TenantDbMixin({ collection: "commerce_payment_methods", indexes: [{ fields: ["tenantId", "provider", "token"], unique: true }] })],
	settings: { rest: "/commerce/payment-methods", fields: ["id", "customerId", "provider", "token", "label", "createdBy", "createdAt"] },
	actions: {
		attachPaymentMethod: {
			rest: "POST /",
			roles: ["member"],
			summary: "Attach a provider token to a customer (422 for anything shaped like a card number).",
			params: {
				customerId: idParam,
				provider: { type: "enum", values: [...PROVIDER_NAMES] },
				token: { type: "string", min: 1, max: 255 },
				label: textParam(100),
				$$strict: "remove",
			},
			async handler(ctx: Ctx<{ customerId: string; provider: string; token: string; label?: string }>) {
				refuseCardData(ctx.params);
				const { customerId, provider, token, label } = ctx.params;
				if (!TOKEN.test(token))
					throw new InvalidInputError("The token is not a provider token.", [
						{ field: "token", message: "must be a provider token such as pm_… or a vault id" },
					]);
				await ctx.call("customers.getCustomer", { id: customerId });
				const method = await this._create<{ id: string }>(ctx, { customerId, provider, token, label, createdBy: currentUser(ctx).id });
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/commerce/payment-methods/${method.id}`;
				return method;
			},
		},
		listPaymentMethods: {
			rest: "GET /",
			roles: ["member"],
			params: { ...pageParams, customerId: idParam, $$strict: "remove" },
			handler(ctx: Ctx<{ page: number; pageSize: number; customerId: string }>) {
				const { page, pageSize, customerId } = ctx.params;
				return this._list(ctx, { page, pageSize, sort: "-createdAt", query: { customerId } });
			},
		},
		getPaymentMethod: {
			rest: "GET /:id",
			roles: ["member"],
			params: { id: idParam, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this._get(ctx, { id: ctx.params.id });
			},
		},
		detachPaymentMethod: removeByIdAction({ roles: ["member"] }),
	},
};

export default PaymentMethodsService;
