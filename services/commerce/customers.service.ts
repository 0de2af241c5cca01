/** Customers of a tenant (who invoices, payments and payment methods are for). */
import { currentUser, type Ctx } from "../../lib/context";
import { pageParams } from "../../lib/paging";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { TenantDbMixin, type TenantDbMethods } from "../../mixins/tenant.mixin";
import { refuseCardData } from "./card-data";
import { idParam } from "./common";

const CustomersService: ServiceSchema<DbSettings, TenantDbMethods> = {
	name: "customers",
	mixins: [TenantDbMixin({ collection: "commerce_customers" })],
	settings: { rest: "/commerce/customers", fields: ["id", "name", "email", "createdBy", "createdAt", "updatedAt"] },
	actions: {
		createCustomer: {
			rest: "POST /",
			roles: ["member"],
			params: {
				name: { type: "string", min: 1, max: 200, trim: true },
				email: { type: "email", max: 320, optional: true },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<{ name: string; email?: string }>) {
				refuseCardData(ctx.params);
				ctx.meta.$statusCode = 201;
				const customer = await this._create<{ id: string }>(ctx, {
					name: ctx.params.name,
					email: ctx.params.email,
					createdBy: currentUser(ctx).id,
				});
				ctx.meta.$location = `/api/commerce/customers/${customer.id}`;
				return customer;
			},
		},
		listCustomers: {
			rest: "GET /",
			roles: ["member"],
			params: { ...pageParams, $$strict: "remove" },
			handler(ctx: Ctx<{ page: number; pageSize: number }>) {
				return this._list(ctx, { page: ctx.params.page, pageSize: ctx.params.pageSize, sort: "-createdAt" });
			},
		},
		getCustomer: {
			rest: "GET /:id",
			roles: ["member"],
			params: { id: idParam, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this._get(ctx, { id: ctx.params.id });
			},
		},
		updateCustomer: {
			rest: "PATCH /:id",
			roles: ["member"],
			params: {
				id: idParam,
				name: { type: "string", min: 1, max: 200, trim: true, optional: true },
				email: { type: "email", max: 320, optional: true },
				$$strict: "remove",
			},
			handler(ctx: Ctx<{ id: string; name?: string; email?: string }>) {
				refuseCardData(ctx.params);
				const { id, name, email } = ctx.params;
				return this._update(ctx, { id, ...(name !== undefined && { name }), ...(email !== undefined && { email }) });
			},
		},
	},
};

export default CustomersService;
