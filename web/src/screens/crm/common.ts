/** What the CRM screens share: the lead, its statuses and workflow (README, "CRM domain" → "Status workflow"), money. */
import type { ApiProblem } from "../../api";
import { exponentOf, money as formatMoney } from "../../format";

export type LeadStatus = "new" | "contacted" | "qualified" | "won" | "lost";
export const STATUSES: LeadStatus[] = ["new", "contacted", "qualified", "won", "lost"];
export const STATUS_LABEL: Record<LeadStatus, string> = { new: "New", contacted: "Contacted", qualified: "Qualified", won: "Won", lost: "Lost" };

export interface Money {
	amount: number;
	currency: string;
}

export interface Lead {
	id: string;
	name: string;
	email: string | null;
	phone: string | null;
	company: string | null;
	country: string | null;
	source: string;
	value: Money | null;
	status: LeadStatus;
	assignedTo: string | null;
	assignedAt: string | null;
	createdBy: string;
	customFields?: Record<string, string | number | boolean>;
	wonAt: string | null;
	lostAt: string | null;
	wonCount: number;
	createdAt: string;
	updatedAt: string;
}

/** The moves the API allows (services/crm/common.ts TRANSITIONS), to explain a refusal in plain words. */
export const NEXT: Record<LeadStatus, LeadStatus[]> = {
	new: ["contacted", "lost"],
	contacted: ["qualified", "lost"],
	qualified: ["won", "lost"],
	won: ["qualified"],
	lost: ["qualified"],
};

const list = (s: LeadStatus[]) => s.map(x => STATUS_LABEL[x]).join(" or ");

/** A refused status change in plain words ("A New lead moves to Contacted or Lost next, not straight to Won."). */
export function explainMove(problem: ApiProblem, from: LeadStatus, to: LeadStatus): string {
	if (problem.code === "INVALID_TRANSITION")
		return `A ${STATUS_LABEL[from]} lead cannot go straight to ${STATUS_LABEL[to]}: move it to ${list(NEXT[from])} first.`;
	if (problem.code === "CONCURRENT_UPDATE") return "Someone changed this lead at the same moment. The board was read again: try once more.";
	return problem.detail || problem.title;
}

/** Minor units as money in the reader's locale: `{ amount: 123456, currency: "EUR" }` → "€1,234.56". */
export const money = (m: Money | null | undefined): string => (m ? formatMoney(m.amount, m.currency, (a, c) => `${a} ${c}`) : "—");

/** Minor units as the decimal a person types: (123450, "EUR") → "1234.5". */
export const fromMinor = (amount: number | undefined, currency: string) => (amount == null ? "" : String(amount / 10 ** exponentOf(currency)));

/** A decimal string typed by a person ("1234.5") as minor units for the currency (123450), or undefined. */
export function toMinor(text: string, currency: string): number | undefined {
	const t = text.trim().replace(",", ".");
	if (!t) return undefined;
	if (!/^\d+(\.\d+)?$/.test(t)) return NaN;
	return Math.round(Number(t) * 10 ** exponentOf(currency));
}
