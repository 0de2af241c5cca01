/**
 * Invoices: line items, discounts, tax and totals in exact minor units (invoice-math.ts), `draft ->
 * open -> paid | void | uncollectible` (invoice-states.ts), a gap-free number per tenant and year given
 * when a draft is finalised (invoice-numbers.ts: Redis across nodes, the store under a lock in embedded
 * mode; a unique index backs both), and a PDF. Drafts are not deleted: a number is only ever asked for
 * by an invoice that stays (README, "Commerce domain").
 */
import { Readable } from "node:stream";
import { config } from "../../lib/config";
import { currentTenantUser, currentUser, type Ctx } from "../../lib/context";
import { InvalidInputError, InvalidTransitionError, NotFoundError } from "../../lib/errors";
import { KeyedMutex } from "../../lib/keyed-mutex";
import { pageParams } from "../../lib/paging";
import { redisClient } from "../../lib/redis";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { entityOf } from "../../middlewares/entity.middleware";
import { TenantDbMixin, type Row, type TenantDbMethods, type TenantScope } from "../../mixins/tenant.mixin";
import { refuseCardData } from "./card-data";
import { currencyParam, idParam, textParam } from "./common";
import { checkLines, invoiceTotals, type Line, type LineInput, type Totals } from "./invoice-math";
import { formatInvoiceNumber, RedisInvoiceNumbers } from "./invoice-numbers";
import { renderInvoicePdf } from "./invoice-pdf";
import { assertInvoiceMove, INVOICE_STATUSES, type InvoiceStatus } from "./invoice-states";
import { checkCurrency } from "./money";

interface InvoiceRow extends Row, Totals {
	status: InvoiceStatus;
	currency: string;
	lines: Line[];
	discountPercent: string;
	number?: string;
	seq?: number;
	year?: number;
	customerId?: string;
	customerName?: string;
	dueDate?: string;
	finalizedAt?: string;
	updatedAt: string;
}

interface Methods extends TenantDbMethods {
	loadInvoice(ctx: TenantScope, id: string): Promise<InvoiceRow | null>;
	/** status `from` → `to` with `set`, compare-and-set on the status; 409 when someone moved it first. */
	move(ctx: TenantScope, row: InvoiceRow, to: InvoiceStatus, set?: Record<string, unknown>): Promise<unknown>;
	/** the next number of the tenant's year from the store itself (embedded mode: one process) */
	numberFromStore(ctx: TenantScope, row: InvoiceRow, year: number, stamp: Record<string, unknown>): Promise<number>;
}

interface Vars {
	numbers?: RedisInvoiceNumbers;
	closeNumbers?: () => Promise<void>;
	numbering: KeyedMutex;
}

const lineItem = {
	type: "object",
	strict: "remove",
	props: {
		description: { type: "string", min: 1, max: 500, trim: true },
		quantity: { type: "number", integer: true, min: 1, max: 1_000_000 },
		unitPrice: { type: "any" },
		taxRate: { type: "string", max: 10, optional: true },
		discount: { type: "any", optional: true },
	},
} as const;
const draftFields = {
	currency: currencyParam,
	lines: { type: "array", max: 200, items: lineItem },
	discountPercent: { type: "string", max: 10, optional: true },
	customerId: { ...idParam, optional: true },
	customerName: textParam(200),
	dueDate: { type: "string", max: 10, pattern: /^\d{4}-\d{2}-\d{2}$/, optional: true },
} as const;

interface DraftParams {
	currency: string;
	lines: LineInput[];
	discountPercent?: string;
	customerId?: string;
	customerName?: string;
	dueDate?: string;
}

function priced(p: DraftParams) {
	refuseCardData(p);
	checkCurrency(p.currency);
	const lines = checkLines(p.lines);
	const discountPercent = p.discountPercent ?? "0";
	return {
		currency: p.currency,
		lines,
		discountPercent,
		...invoiceTotals(lines, discountPercent),
		customerId: p.customerId,
		customerName: p.customerName,
		dueDate: p.dueDate,
	};
}

const InvoicesService: ServiceSchema<DbSettings, Methods, Vars> = {
	name: "invoices",
	mixins: [TenantDbMixin({ collection: "commerce_invoices", indexes: [{ fields: ["tenantId", "number"], unique: true }] })],
	settings: {
		rest: "/commerce/invoices",
		fields: [
			"id",
			"number",
			"status",
			"currency",
			"customerId",
			"customerName",
			"lines",
			"discountPercent",
			"subtotal",
			"discount",
			"tax",
			"total",
			"dueDate",
			"paymentId",
			"finalizedAt",
			"paidAt",
			"voidedAt",
			"createdBy",
			"createdAt",
			"updatedAt",
		],
	},
	created() {
		this.numbering = new KeyedMutex();
		const cfg = config();
		if (cfg.REDIS_URL) {
			const redis = redisClient(cfg.REDIS_URL, "durable");
			this.numbers = new RedisInvoiceNumbers(redis, cfg.NAMESPACE);
			this.closeNumbers = () =>
				redis.quit().then(
					() => undefined,
					() => redis.disconnect(),
				);
		}
	},
	async stopped() {
		await this.closeNumbers?.();
	},
	actions: {
		createInvoice: {
			rest: "POST /",
			roles: ["admin"],
			summary: "A draft invoice (no number yet).",
			params: { ...draftFields, $$strict: "remove" },
			async handler(ctx: Ctx<DraftParams>) {
				const invoice = await this._create<{ id: string }>(ctx, { status: "draft", ...priced(ctx.params), createdBy: currentUser(ctx).id });
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/commerce/invoices/${invoice.id}`;
				return invoice;
			},
		},
		updateInvoice: {
			rest: "PUT /:id",
			roles: ["admin"],
			summary: "Replace a draft's lines and details (409 once finalised).",
			entity: "loadInvoice",
			params: { id: idParam, ...draftFields, $$strict: "remove" },
			async handler(ctx: Ctx<DraftParams & { id: string }>) {
				const row = entityOf<InvoiceRow>(ctx);
				if (row.status !== "draft") throw new InvalidTransitionError("invoice", row.status, "draft");
				return this.move(ctx, row, "draft", priced(ctx.params));
			},
		},
		listInvoices: {
			rest: "GET /",
			scopes: ["invoices:read"],
			roles: ["member"],
			params: { ...pageParams, status: { type: "enum", values: [...INVOICE_STATUSES], optional: true }, $$strict: "remove" },
			handler(ctx: Ctx<{ page: number; pageSize: number; status?: string }>) {
				const { page, pageSize, status } = ctx.params;
				return this._list(ctx, { page, pageSize, sort: "-createdAt", query: status ? { status } : {} });
			},
		},
		getInvoice: {
			rest: "GET /:id",
			scopes: ["invoices:read"],
			roles: ["member"],
			params: { id: idParam, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this._get(ctx, { id: ctx.params.id });
			},
		},
		finalizeInvoice: {
			rest: "POST /:id/finalize",
			roles: ["admin"],
			idempotencyKey: "optional",
			entity: "loadInvoice",
			summary: "Open a draft: it gets the next gap-free number of its tenant and year.",
			params: { id: idParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				const row = entityOf<InvoiceRow>(ctx);
				assertInvoiceMove(row.status, "open");
				if (!row.lines.length) throw new InvalidInputError("An invoice needs at least one line.", [{ field: "lines", message: "is empty" }]);
				const now = new Date();
				const year = now.getUTCFullYear();
				const stamp = { status: "open", year, finalizedAt: now.toISOString() };
				const seq = this.numbers ? await this.numbers.next(currentTenantUser(ctx).tenantId, year, row._id) : undefined;
				if (seq !== undefined) await this.move(ctx, row, "open", { ...stamp, seq });
				const numbered = seq ?? (await this.numberFromStore(ctx, row, year, stamp));
				// The display number goes through `_update`, which keeps the (tenantId, number) unique index: a duplicate would be 409.
				return this._update(ctx, { id: row._id, number: formatInvoiceNumber(year, numbered) });
			},
		},
		payInvoice: {
			rest: "POST /:id/pay",
			roles: ["admin"],
			entity: "loadInvoice",
			summary: "Mark an open invoice paid by a captured payment made for it (same currency, at least its total).",
			params: { id: idParam, paymentId: idParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string; paymentId: string }>) {
				const row = entityOf<InvoiceRow>(ctx);
				assertInvoiceMove(row.status, "paid");
				// a payment that is not there (or not this tenant's) is a bad paymentId, not a missing invoice
				const payment = (await ctx.call("payments.getPayment", { id: ctx.params.paymentId }).catch(err => {
					if (err instanceof NotFoundError) return null;
					throw err;
				})) as { invoiceId?: string; status: string; currency: string; capturedAmount: number } | null;
				const fits =
					!!payment &&
					payment.invoiceId === row._id &&
					payment.status === "captured" &&
					payment.currency === row.currency &&
					payment.capturedAmount >= row.total;
				if (!fits)
					throw new InvalidInputError("The payment does not pay this invoice.", [
						{ field: "paymentId", message: "must be a captured payment for this invoice, in its currency, of at least its total" },
					]);
				return this.move(ctx, row, "paid", { paymentId: ctx.params.paymentId, paidAt: new Date().toISOString() });
			},
		},
		voidInvoice: {
			rest: "POST /:id/void",
			roles: ["admin"],
			entity: "loadInvoice",
			params: { id: idParam, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this.move(ctx, entityOf<InvoiceRow>(ctx), "void", { voidedAt: new Date().toISOString() });
			},
		},
		markUncollectible: {
			rest: "POST /:id/mark-uncollectible",
			roles: ["admin"],
			entity: "loadInvoice",
			params: { id: idParam, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this.move(ctx, entityOf<InvoiceRow>(ctx), "uncollectible");
			},
		},
		invoicePdf: {
			rest: "GET /:id/pdf",
			scopes: ["invoices:read"],
			roles: ["member"],
			entity: "loadInvoice",
			params: { id: idParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				const row = entityOf<InvoiceRow>(ctx);
				const pdf = await renderInvoicePdf(row);
				ctx.meta.$responseType = "application/pdf";
				ctx.meta.$responseHeaders = { "Content-Disposition": `inline; filename="${row.number ?? `draft-${row._id}`}.pdf"` };
				return Readable.from([pdf]);
			},
		},
	},
	methods: {
		loadInvoice(ctx, id) {
			return this.scopedFindById<InvoiceRow>(ctx, id);
		},
		async move(ctx, row, to, set = {}) {
			if (to !== row.status) assertInvoiceMove(row.status, to);
			const n = await this.scopedUpdateWhere(ctx, { _id: row._id, status: row.status, updatedAt: row.updatedAt }, { ...set, status: to });
			if (n === 0) {
				const now = await this.scopedFindById<InvoiceRow>(ctx, row._id);
				throw new InvalidTransitionError("invoice", now?.status ?? "gone", to);
			}
			return this._get(ctx, { id: row._id });
		},
		async numberFromStore(ctx, row, year, stamp) {
			const tenantId = currentTenantUser(ctx).tenantId;
			return this.numbering.run(`${tenantId}:${year}`, async () => {
				const numbered = await this.scopedScan<{ seq?: number }>(ctx, { year, seq: { $gt: 0 } }, ["seq"]);
				const seq = numbered.reduce((max, r) => Math.max(max, r.seq ?? 0), 0) + 1;
				await this.move(ctx, row, "open", { ...stamp, seq });
				return seq;
			});
		},
	},
};

export default InvoicesService;
