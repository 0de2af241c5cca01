/**
 * Message templates of the messaging domain (README, "Messaging domain" → "Templates"): checked when
 * saved, rendered when sent. Text, quick-reply and button titles are Liquid in strict mode with the
 * platform's template engine (lib/templates.ts, its plain-text engine): a variable the template does
 * not declare, or that is not `customer.name` / `customer.id`, is refused at save time with its line.
 */
import { checkSource, missingVariables, renderPart } from "../../lib/templates";
import type { OutboundContent } from "./messages/types";

export interface TemplateDef {
	name: string;
	/** variables a sender passes (`order.id`), on top of the customer's */
	variables: string[];
	text?: string | null;
	quickReplies?: { title: string; payload: string }[] | null;
	buttons?: ({ type: "postback"; title: string; payload: string } | { type: "url"; title: string; url: string })[] | null;
	media?: { type: "image" | "video" | "audio" | "file"; url: string } | null;
	/** the approved WhatsApp template it stands for; `parameters` fill its body's {{1}}, {{2}} … */
	whatsapp?: { name: string; language: string; parameters: string[] } | null;
}

export const CUSTOMER_VARIABLES = ["customer.id", "customer.name"];

/** Liquid sources of a template and where each sits (for error messages). */
function sources(t: TemplateDef): [string, string][] {
	const out: [string, string][] = [];
	if (t.text) out.push(["text", t.text]);
	t.quickReplies?.forEach((q, i) => out.push([`quickReplies[${i}].title`, q.title]));
	t.buttons?.forEach((b, i) => out.push([`buttons[${i}].title`, b.title]));
	t.whatsapp?.parameters.forEach((p, i) => out.push([`whatsapp.parameters[${i}]`, p]));
	return out;
}

export function checkTemplate(t: TemplateDef): { field: string; message: string }[] {
	const issues: { field: string; message: string }[] = [];
	if (!t.text && !t.media && !t.whatsapp) issues.push({ field: "text", message: "a template needs text, media or a WhatsApp template" });
	if ((t.quickReplies?.length || t.buttons?.length) && !t.text) issues.push({ field: "text", message: "quick replies and buttons need a text" });
	if (t.quickReplies?.length && t.buttons?.length) issues.push({ field: "buttons", message: "use quick replies or buttons, not both" });
	const allowed = [...CUSTOMER_VARIABLES, ...t.variables];
	// The "push.body" part of the notification engine is plain text, which is what these sources are.
	for (const [field, source] of sources(t))
		for (const issue of checkSource("push", "body", source, allowed)) issues.push({ field, message: issue.message });
	return issues;
}

const render = (source: string, vars: Record<string, unknown>) => renderPart("push", { body: source }, vars).body;

/** The content of an outbound message from a template and the sender's variables (missing ones: listed, nothing rendered). */
export function renderTemplate(
	t: TemplateDef,
	vars: Record<string, unknown>,
	customer: { id: string; name: string | null },
): { content: OutboundContent } | { missing: string[] } {
	const missing = missingVariables(t, vars);
	if (missing.length) return { missing };
	const all = { ...vars, customer: { id: customer.id, name: customer.name ?? "" } };
	const content: OutboundContent = {};
	if (t.text) content.text = render(t.text, all).slice(0, 2000);
	if (t.quickReplies?.length) content.quickReplies = t.quickReplies.map(q => ({ title: render(q.title, all).slice(0, 20), payload: q.payload }));
	if (t.buttons?.length) content.buttons = t.buttons.map(b => ({ ...b, title: render(b.title, all).slice(0, 20) }));
	if (t.media) content.attachment = t.media;
	if (t.whatsapp)
		content.template = {
			name: t.whatsapp.name,
			language: t.whatsapp.language,
			...(t.whatsapp.parameters.length && {
				components: [{ type: "body", parameters: t.whatsapp.parameters.map(p => ({ type: "text", text: render(p, all) })) }],
			}),
		};
	return { content };
}
