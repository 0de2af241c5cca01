/**
 * Payments (README, "Commerce domain" → Resources, States): the list by status at `/commerce/payments`; one
 * payment at `/commerce/payments/<id>` with its refunds and, for admins, a refund of all or part of what is
 * left (an Idempotency-Key per refund, so a retried click refunds once).
 */
import { useState } from "preact/hooks";
import { get, post } from "../../api";
import { Field } from "../../components/field";
import { Form } from "../../components/form";
import { Loading } from "../../components/loading";
import { StatusPagedTable } from "../../components/pager";
import { Notice, ProblemBanner } from "../../components/problem-banner";
import { StatusChip } from "../../components/status";
import { Table } from "../../components/table";
import { useAction, useApi } from "../../components/use-api";
import type { ScreenProps } from "../../nav";
import { href } from "../../router";
import { isAdmin } from "../../session";
import { money, toMinor } from "./money";
import { when } from "../../format";

/** An Idempotency-Key: 128 random bits (crypto.randomUUID needs a secure context; plain http on a LAN is not one). */
const newKey = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), b => b.toString(16).padStart(2, "0")).join("");

type PaymentStatus = "pending" | "requires_action" | "authorized" | "captured" | "partially_refunded" | "refunded" | "failed" | "cancelled";

interface Refund {
	id: string;
	amount: number;
	status: "pending" | "succeeded" | "failed";
	reason?: string;
	createdAt: string;
}

interface Payment {
	id: string;
	status: PaymentStatus;
	amount: number;
	currency: string;
	capturedAmount: number;
	refundedAmount: number;
	provider: string;
	paymentMethod: string;
	refunds: Refund[];
	declineCode?: string;
	invoiceId?: string;
	orderId?: string;
	description?: string;
	createdAt: string;
}

const STATUS_WORD: Record<PaymentStatus, string> = {
	pending: "Pending",
	requires_action: "Needs the payer's action",
	authorized: "Authorised",
	captured: "Captured",
	partially_refunded: "Partly refunded",
	refunded: "Refunded",
	failed: "Failed",
	cancelled: "Cancelled",
};

export default function Payments(props: ScreenProps) {
	const prefix = "/commerce/payments/";
	const id = props.route.path.startsWith(prefix) ? decodeURIComponent(props.route.path.slice(prefix.length)) : null;
	return id ? <PaymentDetail key={id} id={id} admin={isAdmin(props.session)} /> : <PaymentList />;
}

function PaymentList() {
	return (
		<>
			<h1>Payments</h1>
			<StatusPagedTable<Payment>
				path="/api/commerce/payments"
				statusWords={STATUS_WORD}
				caption="Payments"
				empty="No payment yet."
				columns={[
					{
						label: "Made",
						cell: p => <a href={href(`/commerce/payments/${encodeURIComponent(p.id)}`)}>{when(p.createdAt)}</a>,
					},
					{ label: "Description", cell: p => p.description ?? "—" },
					{ label: "Status", cell: p => <StatusChip status={p.status} words={STATUS_WORD} /> },
					{ label: "Amount", numeric: true, cell: p => money(p.amount, p.currency) },
					{ label: "Refunded", numeric: true, cell: p => (p.refundedAmount ? money(p.refundedAmount, p.currency) : "—") },
				]}
			/>
		</>
	);
}

function PaymentDetail({ id, admin }: { id: string; admin: boolean }) {
	const path = `/api/commerce/payments/${encodeURIComponent(id)}`;
	const pay = useApi(signal => get<Payment>(path, undefined, { signal }), [id]);
	const [notice, setNotice] = useState<string | null>(null);
	const [moveKey, setMoveKey] = useState(newKey);
	const move = useAction(async (action: "capture" | "cancel") => {
		await post(`${path}/${action}`, {}, { headers: { "idempotency-key": moveKey } });
		setMoveKey(newKey());
		setNotice(action === "capture" ? "The payment is captured." : "The payment is cancelled.");
		pay.reload();
	});
	if (pay.loading && !pay.data) return <Loading />;
	if (!pay.data)
		return (
			<>
				<h1>Payment</h1>
				<ProblemBanner problem={pay.problem} />
				<a href={href("/commerce/payments")}>All payments</a>
			</>
		);
	const p = pay.data;
	const refundable = p.capturedAmount - p.refundedAmount;
	return (
		<>
			<p>
				<a href={href("/commerce/payments")}>← All payments</a>
			</p>
			<h1>Payment of {money(p.amount, p.currency)}</h1>
			{notice ? <Notice kind="success">{notice}</Notice> : null}
			<ProblemBanner problem={move.problem} />
			{p.status === "authorized" || p.status === "pending" || p.status === "requires_action" ? (
				<div class="toolbar">
					{p.status === "authorized" ? (
						<button type="button" disabled={move.busy} onClick={() => void move.run("capture")}>
							Capture {money(p.amount, p.currency)}
						</button>
					) : null}
					<button type="button" class="danger" disabled={move.busy} onClick={() => void move.run("cancel")}>
						Cancel the payment
					</button>
				</div>
			) : null}
			<dl class="fact-list">
				<dt>Status</dt>
				<dd data-field="status">{STATUS_WORD[p.status]}</dd>
				<dt>Description</dt>
				<dd>{p.description ?? "—"}</dd>
				<dt>Captured</dt>
				<dd>{money(p.capturedAmount, p.currency)}</dd>
				<dt>Refunded</dt>
				<dd data-field="refunded">{money(p.refundedAmount, p.currency)}</dd>
				<dt>Provider</dt>
				<dd>
					{p.provider} ({p.paymentMethod})
				</dd>
				{p.declineCode ? (
					<>
						<dt>Declined</dt>
						<dd>{p.declineCode}</dd>
					</>
				) : null}
				{p.invoiceId ? (
					<>
						<dt>Invoice</dt>
						<dd>
							<a href={href(`/commerce/invoices/${encodeURIComponent(p.invoiceId)}`)}>the invoice</a>
						</dd>
					</>
				) : null}
				<dt>Made</dt>
				<dd>{when(p.createdAt)}</dd>
			</dl>
			<h2>Refunds</h2>
			<Table
				caption="Refunds of this payment"
				rows={p.refunds}
				rowKey={r => r.id}
				empty="No refund."
				columns={[
					{ label: "When", cell: r => when(r.createdAt) },
					{ label: "Amount", numeric: true, cell: r => money(r.amount, p.currency) },
					{ label: "Status", cell: r => ({ pending: "Pending", succeeded: "Refunded", failed: "Failed" })[r.status] },
					{ label: "Reason", cell: r => r.reason ?? "—" },
				]}
			/>
			{admin && (p.status === "captured" || p.status === "partially_refunded") && refundable > 0 ? (
				<RefundForm
					payment={p}
					refundable={refundable}
					onDone={(amount: number) => {
						setNotice(`${money(amount, p.currency)} is refunded.`);
						pay.reload();
					}}
				/>
			) : !admin ? (
				<p class="hint">Refunds are made by admins of the organisation.</p>
			) : null}
		</>
	);
}

function RefundForm({ payment: p, refundable, onDone }: { payment: Payment; refundable: number; onDone(amount: number): void }) {
	const [amount, setAmount] = useState("");
	const [reason, setReason] = useState("");
	const [error, setError] = useState<string | undefined>(undefined);
	// one key per refund the reader means: a retry of the same submit is the same refund
	const [key, setKey] = useState(() => newKey());
	const refund = useAction((body: { amount?: number; reason?: string }) =>
		post<{ amount: number }>(`/api/commerce/payments/${encodeURIComponent(p.id)}/refunds`, body, { headers: { "idempotency-key": key } }),
	);
	const plain =
		refund.problem?.code === "REFUND_EXCEEDS_CAPTURED"
			? `That is more than what is left to refund (${money(refundable, p.currency)}).`
			: undefined;
	return (
		<Form
			class="panel"
			noValidate
			onSubmit={async () => {
				const body: { amount?: number; reason?: string } = {};
				if (amount.trim()) {
					const m = toMinor(amount, p.currency);
					if ("error" in m) return setError(m.error);
					body.amount = m.amount;
				}
				setError(undefined);
				if (reason.trim()) body.reason = reason.trim();
				const r = await refund.run(body);
				if (r.ok) {
					setAmount("");
					setReason("");
					setKey(newKey());
					onDone(r.value.amount);
				} else if (r.problem.status < 500 && r.problem.code !== "IDEMPOTENCY_KEY_IN_PROGRESS") setKey(newKey());
			}}
			problem={refund.problem}
			fields={["amount", "reason"]}
			banner={plain ? null : refund.problem}
			head={<h3>Refund</h3>}
		>
			<Field
				label={`Amount (${p.currency})`}
				name="amount"
				value={amount}
				onInput={setAmount}
				error={error ?? plain}
				hint={`Leave empty to refund everything left: ${money(refundable, p.currency)}.`}
				maxLength={30}
			/>
			<Field label="Reason" name="reason" value={reason} onInput={setReason} maxLength={500} />
			<button type="submit" class="danger" disabled={refund.busy}>
				Refund
			</button>
		</Form>
	);
}
