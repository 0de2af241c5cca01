/**
 * Invoices (README, "Commerce domain" → Resources): the list by status at `/commerce/invoices`, one invoice at
 * `/commerce/invoices/<id>` with its lines and totals, its PDF (fetched with your token, opened or saved from
 * a blob URL) and, for admins, finalize / void / mark uncollectible.
 */
import { useEffect, useState } from "preact/hooks";
import { get, getBlob, post } from "../../api";
import { Field } from "../../components/field";
import { Form } from "../../components/form";
import { Loading } from "../../components/loading";
import { StatusPagedTable } from "../../components/pager";
import { Notice, ProblemBanner } from "../../components/problem-banner";
import { StatusChip } from "../../components/status";
import { Table } from "../../components/table";
import { useAction, useApi } from "../../components/use-api";
import type { ScreenProps } from "../../nav";
import { href, navigate } from "../../router";
import { isAdmin } from "../../session";
import { money, toMinor } from "./money";
import { day, when } from "../../format";

export type InvoiceStatus = "draft" | "open" | "paid" | "void" | "uncollectible";
export interface Invoice {
	id: string;
	number: string | null;
	status: InvoiceStatus;
	currency: string;
	customerId: string | null;
	customerName: string | null;
	lines: { description: string; quantity: number; unitPrice: number; taxRate: string; discount: number; amount: number }[];
	discountPercent: string;
	subtotal: number;
	discount: number;
	tax: number;
	total: number;
	dueDate: string | null;
	paymentId: string | null;
	finalizedAt: string | null;
	paidAt: string | null;
	voidedAt: string | null;
	createdAt: string;
}

const STATUS_WORD: Record<InvoiceStatus, string> = { draft: "Draft", open: "Open", paid: "Paid", void: "Void", uncollectible: "Uncollectible" };
const nameOf = (i: Invoice) => i.number ?? `Draft of ${day(i.createdAt)}`;

export default function Invoices(props: ScreenProps) {
	const prefix = "/commerce/invoices/";
	const id = props.route.path.startsWith(prefix) ? decodeURIComponent(props.route.path.slice(prefix.length)) : null;
	return id ? <InvoiceDetail key={id} id={id} admin={isAdmin(props.session)} /> : <InvoiceList admin={isAdmin(props.session)} />;
}

function InvoiceList({ admin }: { admin: boolean }) {
	return (
		<>
			<h1>Invoices</h1>
			{admin ? <NewInvoice /> : null}
			<StatusPagedTable<Invoice>
				path="/api/commerce/invoices"
				statusWords={STATUS_WORD}
				caption="Invoices"
				empty="No invoice yet."
				columns={[
					{ label: "Invoice", cell: i => <a href={href(`/commerce/invoices/${encodeURIComponent(i.id)}`)}>{nameOf(i)}</a> },
					{ label: "Customer", cell: i => i.customerName ?? "—" },
					{ label: "Status", cell: i => <StatusChip status={i.status} words={STATUS_WORD} /> },
					{ label: "Total", numeric: true, cell: i => money(i.total, i.currency) },
					{ label: "Due", cell: i => day(i.dueDate) },
				]}
			/>
		</>
	);
}

function InvoiceDetail({ id, admin }: { id: string; admin: boolean }) {
	const path = `/api/commerce/invoices/${encodeURIComponent(id)}`;
	const inv = useApi(signal => get<Invoice>(path, undefined, { signal }), [id]);
	const [notice, setNotice] = useState<string | null>(null);
	const [pdfUrl, setPdfUrl] = useState<string | null>(null);
	useEffect(() => () => void (pdfUrl && URL.revokeObjectURL(pdfUrl)), [pdfUrl]);
	const pdf = useAction(async (how: "open" | "save") => {
		// the route needs the token, so it is fetched here and handed to the browser as a blob URL
		const url = pdfUrl ?? URL.createObjectURL(await getBlob(`${path}/pdf`));
		setPdfUrl(url);
		if (how === "open") window.open(url, "_blank", "noopener");
		else {
			const a = document.createElement("a");
			a.href = url;
			a.download = `${inv.data?.number ?? `draft-${id}`}.pdf`;
			document.body.append(a);
			a.click();
			a.remove();
		}
	});
	const move = useAction(async (action: "finalize" | "void" | "mark-uncollectible", done: string) => {
		await post(`${path}/${action}`);
		setNotice(done);
		if (pdfUrl) setPdfUrl(null);
		inv.reload();
	});
	if (inv.loading && !inv.data) return <Loading />;
	if (!inv.data)
		return (
			<>
				<h1>Invoice</h1>
				<ProblemBanner problem={inv.problem} />
				<a href={href("/commerce/invoices")}>All invoices</a>
			</>
		);
	const i = inv.data;
	return (
		<>
			<p>
				<a href={href("/commerce/invoices")}>← All invoices</a>
			</p>
			<h1>Invoice {nameOf(i)}</h1>
			{notice ? <Notice kind="success">{notice}</Notice> : null}
			<ProblemBanner problem={pdf.problem ?? move.problem} />
			<div class="toolbar">
				<button type="button" disabled={pdf.busy} onClick={() => void pdf.run("open")}>
					Open PDF
				</button>
				<button type="button" class="secondary" disabled={pdf.busy} onClick={() => void pdf.run("save")}>
					Download PDF
				</button>
				{pdf.busy ? <Loading label="Preparing the PDF…" /> : null}
				{admin && i.status === "draft" ? (
					<button
						type="button"
						class="secondary"
						disabled={move.busy}
						onClick={() => void move.run("finalize", "The invoice is final and numbered.")}
					>
						Finalize
					</button>
				) : null}
				{admin && i.status === "open" ? (
					<button
						type="button"
						class="secondary"
						disabled={move.busy}
						onClick={() => void move.run("mark-uncollectible", "The invoice is marked uncollectible.")}
					>
						Mark uncollectible
					</button>
				) : null}
				{admin && (i.status === "open" || i.status === "uncollectible") ? (
					<button type="button" class="danger" disabled={move.busy} onClick={() => void move.run("void", "The invoice is void.")}>
						Void
					</button>
				) : null}
			</div>
			<dl class="fact-list">
				<dt>Status</dt>
				<dd data-field="status">{STATUS_WORD[i.status]}</dd>
				<dt>Customer</dt>
				<dd>{i.customerName ?? "—"}</dd>
				<dt>Due</dt>
				<dd>{day(i.dueDate)}</dd>
				<dt>Finalised</dt>
				<dd>{when(i.finalizedAt)}</dd>
				<dt>Paid</dt>
				<dd>
					{i.paidAt ? when(i.paidAt) : "—"}
					{i.paymentId ? (
						<>
							{" "}
							(<a href={href(`/commerce/payments/${encodeURIComponent(i.paymentId)}`)}>the payment</a>)
						</>
					) : null}
				</dd>
			</dl>
			<Table
				caption="Lines"
				rows={i.lines.map((l, n) => ({ ...l, n }))}
				rowKey={l => String(l.n)}
				columns={[
					{ label: "Description", cell: l => l.description },
					{ label: "Quantity", numeric: true, cell: l => l.quantity },
					{ label: "Unit price", numeric: true, cell: l => money(l.unitPrice, i.currency) },
					{ label: "Discount", numeric: true, cell: l => (l.discount ? money(l.discount, i.currency) : "—") },
					{ label: "Tax", numeric: true, cell: l => `${l.taxRate || "0"} %` },
					{ label: "Amount", numeric: true, cell: l => money(l.amount, i.currency) },
				]}
			/>
			<dl class="totals">
				<dt>Subtotal</dt>
				<dd>{money(i.subtotal, i.currency)}</dd>
				{i.discount ? (
					<>
						<dt>Discount ({i.discountPercent} %)</dt>
						<dd>−{money(i.discount, i.currency)}</dd>
					</>
				) : null}
				<dt>Tax</dt>
				<dd>{money(i.tax, i.currency)}</dd>
				<dt>Total</dt>
				<dd data-field="total">
					<strong>{money(i.total, i.currency)}</strong>
				</dd>
			</dl>
		</>
	);
}

interface DraftLine {
	description: string;
	quantity: string;
	unitPrice: string;
	taxRate: string;
}
const emptyLine = (): DraftLine => ({ description: "", quantity: "1", unitPrice: "", taxRate: "" });

/** A draft invoice (admins): currency, customer, due date and lines; the server prices it (`POST /api/commerce/invoices`). */
function NewInvoice() {
	const [currency, setCurrency] = useState("EUR");
	const [customerName, setCustomerName] = useState("");
	const [dueDate, setDueDate] = useState("");
	const [lines, setLines] = useState<DraftLine[]>([emptyLine()]);
	const [errors, setErrors] = useState<Record<string, string>>({});
	const create = useAction((body: Record<string, unknown>) => post<Invoice>("/api/commerce/invoices", body));
	const setLine = (i: number, patch: Partial<DraftLine>) => setLines(ls => ls.map((l, n) => (n === i ? { ...l, ...patch } : l)));
	// the fields shown, by the names the API's errors use (`lines[0].unitPrice`)
	const fieldNames = [
		"currency",
		"customerName",
		"dueDate",
		...lines.flatMap((_, i) => ["description", "quantity", "unitPrice", "taxRate"].map(f => `lines[${i}].${f}`)),
	];
	return (
		<details class="panel">
			<summary>New invoice</summary>
			<Form
				noValidate
				problem={create.problem}
				fields={fieldNames}
				onSubmit={async () => {
					const local: Record<string, string> = {};
					const cur = currency.trim().toUpperCase();
					const body: Record<string, unknown> = {
						currency: cur,
						lines: lines.map((l, i) => {
							const price = toMinor(l.unitPrice || "0", cur, { allowZero: true });
							if ("error" in price) local[`lines[${i}].unitPrice`] = price.error;
							if (!l.description.trim()) local[`lines[${i}].description`] = "Say what this line is for.";
							const line: Record<string, unknown> = {
								description: l.description.trim(),
								quantity: Number(l.quantity),
								unitPrice: "amount" in price ? price.amount : 0,
							};
							if (l.taxRate.trim()) line.taxRate = l.taxRate.trim();
							return line;
						}),
					};
					if (customerName.trim()) body.customerName = customerName.trim();
					if (dueDate) body.dueDate = dueDate;
					setErrors(local);
					if (Object.keys(local).length) return;
					const r = await create.run(body);
					if (r.ok) navigate(`/commerce/invoices/${encodeURIComponent(r.value.id)}`);
				}}
			>
				<div class="form-row">
					<Field
						label="Currency"
						name="currency"
						value={currency}
						onInput={setCurrency}
						hint="ISO code: EUR, USD, JPY…"
						maxLength={3}
						required
					/>
					<Field label="Customer" name="customerName" value={customerName} onInput={setCustomerName} maxLength={200} />
					<div class="field">
						<label for="new-invoice-due">Due date</label>
						<input id="new-invoice-due" type="date" value={dueDate} onInput={e => setDueDate(e.currentTarget.value)} />
					</div>
				</div>
				<fieldset class="lines">
					<legend>Lines</legend>
					{lines.map((l, i) => (
						<div class="form-row line" key={i}>
							<Field
								label={`Line ${i + 1}: description`}
								name={`lines[${i}].description`}
								value={l.description}
								onInput={v => setLine(i, { description: v })}
								error={errors[`lines[${i}].description`]}
								maxLength={500}
								required
							/>
							<Field
								label="Quantity"
								name={`lines[${i}].quantity`}
								type="number"
								value={l.quantity}
								onInput={v => setLine(i, { quantity: v })}
							/>
							<Field
								label={`Unit price (${currency.toUpperCase() || "…"})`}
								name={`lines[${i}].unitPrice`}
								value={l.unitPrice}
								onInput={v => setLine(i, { unitPrice: v })}
								error={errors[`lines[${i}].unitPrice`]}
								maxLength={30}
							/>
							<Field
								label="Tax rate (%)"
								name={`lines[${i}].taxRate`}
								value={l.taxRate}
								onInput={v => setLine(i, { taxRate: v })}
								maxLength={10}
							/>
							{lines.length > 1 ? (
								<button
									type="button"
									class="secondary small"
									onClick={() => setLines(ls => ls.filter((_, n) => n !== i))}
									aria-label={`Remove line ${i + 1}`}
								>
									Remove
								</button>
							) : null}
						</div>
					))}
					<button type="button" class="secondary small" onClick={() => setLines(ls => [...ls, emptyLine()])}>
						Add a line
					</button>
				</fieldset>
				<button type="submit" disabled={create.busy}>
					Create draft
				</button>
			</Form>
		</details>
	);
}
