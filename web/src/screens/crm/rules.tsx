/**
 * The assignment rules editor (admins; README, "CRM domain" → "Assignment"): the rules in priority order,
 * create, edit, enable or disable, delete. A rule's conditions (sources, countries, value range) pick the
 * leads; its strategy (round-robin or least-loaded over a pool of members, or a fixed member) picks the agent.
 * Calls `GET/POST /api/assignment/rules`, `PATCH/DELETE /api/assignment/rules/:id`, the tenant's members.
 */
import { useState } from "preact/hooks";
import { del, get, patch, post, type Page } from "../../api";
import { Field } from "../../components/field";
import { Options } from "../../components/filters";
import { Form } from "../../components/form";
import { Loading } from "../../components/loading";
import { Notice, ProblemBanner } from "../../components/problem-banner";
import { Table } from "../../components/table";
import { useAction, useApi } from "../../components/use-api";
import type { ScreenProps } from "../../nav";
import type { SignedIn } from "../../session";
import { fromMinor, money, toMinor } from "./common";
import { memberChoices, memberName, useMembers } from "./members";

interface Rule {
	id: string;
	name: string;
	priority: number;
	enabled: boolean;
	conditions: { sources?: string[]; countries?: string[]; value?: { currency: string; min?: number; max?: number } };
	strategy: "round-robin" | "least-loaded" | "fixed";
	pool?: string[];
	fixedUserId?: string | null;
}

const STRATEGY: Record<Rule["strategy"], string> = { "round-robin": "Round robin", "least-loaded": "Least loaded", fixed: "Always the same person" };

function conditionsText(r: Rule): string {
	const c = r.conditions ?? {};
	const parts: string[] = [];
	if (c.sources?.length) parts.push(`source ${c.sources.join(" or ")}`);
	if (c.countries?.length) parts.push(`country ${c.countries.join(" or ")}`);
	if (c.value) {
		const { currency, min, max } = c.value;
		parts.push(
			`value in ${currency}${min != null ? ` from ${money({ amount: min, currency })}` : ""}${max != null ? ` up to ${money({ amount: max, currency })}` : ""}`,
		);
	}
	return parts.length ? parts.join(", ") : "every lead";
}

export default function Rules({ session }: ScreenProps) {
	const rules = useApi(signal => get<Page<Rule>>("/api/assignment/rules", { pageSize: 100 }, { signal }));
	const [editing, setEditing] = useState<Rule | "new" | null>(null);
	const [done, setDone] = useState("");
	/** the rule whose Delete was pressed once: a second press deletes it */
	const [confirming, setConfirming] = useState<string | null>(null);
	const toggle = useAction(async (r: Rule) => {
		await patch(`/api/assignment/rules/${encodeURIComponent(r.id)}`, { enabled: !r.enabled });
		rules.reload();
	});
	const remove = useAction(async (r: Rule) => {
		await del(`/api/assignment/rules/${encodeURIComponent(r.id)}`);
		setConfirming(null);
		setDone(`The rule “${r.name}” was deleted.`);
		rules.reload();
	});
	return (
		<>
			<h1>Assignment rules</h1>
			<p>New leads go to the first enabled rule that matches them (lowest priority number first). A lead no rule matches waits unassigned.</p>
			<div class="toolbar">
				<button type="button" onClick={() => setEditing("new")}>
					New rule
				</button>
			</div>
			{done ? <Notice kind="success">{done}</Notice> : null}
			<ProblemBanner problem={rules.problem ?? toggle.problem ?? remove.problem} />
			{editing ? (
				<RuleForm
					key={editing === "new" ? "new" : editing.id}
					rule={editing === "new" ? null : editing}
					session={session}
					onDone={saved => {
						setEditing(null);
						setDone(saved ? `The rule “${saved}” was saved.` : "");
						rules.reload();
					}}
				/>
			) : null}
			{!rules.data ? (
				<Loading />
			) : (
				<Table
					caption="Rules"
					rows={rules.data.rows}
					rowKey={r => r.id}
					empty="No rules yet: every new lead waits unassigned."
					columns={[
						{ label: "Priority", numeric: true, cell: r => r.priority },
						{ label: "Name", cell: r => r.name },
						{ label: "Leads", cell: r => conditionsText(r) },
						{
							label: "Go to",
							cell: r =>
								r.strategy === "fixed"
									? memberName(session, r.fixedUserId)
									: `${STRATEGY[r.strategy]}: ${(r.pool ?? []).map(u => memberName(session, u)).join(", ")}`,
						},
						{ label: "State", cell: r => (r.enabled ? "Enabled" : "Disabled") },
						{
							label: "Actions",
							cell: r => (
								<span class="row-actions">
									<button type="button" class="secondary small" onClick={() => setEditing(r)} aria-label={`Edit ${r.name}`}>
										Edit
									</button>
									<button
										type="button"
										class="secondary small"
										disabled={toggle.busy}
										onClick={() => void toggle.run(r)}
										aria-label={`${r.enabled ? "Disable" : "Enable"} ${r.name}`}
									>
										{r.enabled ? "Disable" : "Enable"}
									</button>
									{confirming === r.id ? (
										<>
											<button
												type="button"
												class="danger small"
												disabled={remove.busy}
												onClick={() => void remove.run(r)}
												aria-label={`Really delete ${r.name}`}
											>
												Really delete
											</button>
											<button
												type="button"
												class="secondary small"
												onClick={() => setConfirming(null)}
												aria-label={`Keep ${r.name}`}
											>
												Keep
											</button>
										</>
									) : (
										<button
											type="button"
											class="danger small"
											onClick={() => setConfirming(r.id)}
											aria-label={`Delete ${r.name}`}
										>
											Delete
										</button>
									)}
								</span>
							),
						},
					]}
				/>
			)}
		</>
	);
}

const words = (s: string) =>
	s
		.split(",")
		.map(x => x.trim())
		.filter(Boolean);

function RuleForm({ rule, session, onDone }: { rule: Rule | null; session: SignedIn; onDone(saved: string | null): void }) {
	const members = useMembers(session);
	const c = rule?.conditions ?? {};
	const [name, setName] = useState(rule?.name ?? "");
	const [priority, setPriority] = useState(String(rule?.priority ?? 100));
	const [enabled, setEnabled] = useState(rule?.enabled ?? true);
	const [sources, setSources] = useState((c.sources ?? []).join(", "));
	const [countries, setCountries] = useState((c.countries ?? []).join(", "));
	const [currency, setCurrency] = useState(c.value?.currency ?? "");
	const [min, setMin] = useState(fromMinor(c.value?.min, c.value?.currency ?? "EUR"));
	const [max, setMax] = useState(fromMinor(c.value?.max, c.value?.currency ?? "EUR"));
	const [strategy, setStrategy] = useState<Rule["strategy"]>(rule?.strategy ?? "round-robin");
	const [pool, setPool] = useState<string[]>(rule?.pool ?? []);
	const [fixed, setFixed] = useState(rule?.fixedUserId ?? "");

	const save = useAction(async () => {
		const conditions: Rule["conditions"] = {};
		if (words(sources).length) conditions.sources = words(sources);
		if (words(countries).length) conditions.countries = words(countries).map(x => x.toUpperCase());
		if (currency.trim()) {
			const cur = currency.trim().toUpperCase();
			conditions.value = { currency: cur };
			const lo = toMinor(min, cur);
			const hi = toMinor(max, cur);
			if (lo !== undefined) conditions.value.min = lo;
			if (hi !== undefined) conditions.value.max = hi;
		}
		const body: Record<string, unknown> = { name, priority: Number(priority), enabled, conditions, strategy };
		if (strategy === "fixed") body.fixedUserId = fixed || undefined;
		else body.pool = pool;
		if (rule) await patch(`/api/assignment/rules/${encodeURIComponent(rule.id)}`, body);
		else await post("/api/assignment/rules", body);
		return name;
	});
	const p = save.problem;
	const poolError = p?.fieldError("pool");
	return (
		<Form
			class="panel"
			aria-labelledby="rule-form-heading"
			onSubmit={async () => {
				const r = await save.run();
				if (r.ok) onDone(r.value);
			}}
			problem={p}
			fields={["name", "priority", "conditions", "pool", "fixedUserId", "strategy"]}
			head={<h2 id="rule-form-heading">{rule ? `Edit “${rule.name}”` : "New rule"}</h2>}
		>
			<div class="form-grid">
				<Field label="Name" name="name" value={name} onInput={setName} required maxLength={200} autoFocus />
				<Field label="Priority" name="priority" type="number" value={priority} onInput={setPriority} hint="Lower runs first" />
				<Field
					label="Sources"
					name="conditions.sources"
					value={sources}
					onInput={setSources}
					maxLength={500}
					hint="Comma separated; empty: any"
				/>
				<Field
					label="Countries"
					name="conditions.countries"
					value={countries}
					onInput={setCountries}
					maxLength={500}
					hint="Two-letter codes, comma separated; empty: any"
				/>
				<Field
					label="Value currency"
					name="conditions.value"
					value={currency}
					onInput={setCurrency}
					maxLength={3}
					hint="Empty: value does not matter"
				/>
				<Field label="Value from" name="conditions.value.min" value={min} onInput={setMin} maxLength={20} />
				<Field label="Value up to" name="conditions.value.max" value={max} onInput={setMax} maxLength={20} />
			</div>
			<div class="field">
				<label for="rule-strategy">Who gets the lead</label>
				<select
					id="rule-strategy"
					value={strategy}
					onChange={e => setStrategy((e.currentTarget as HTMLSelectElement).value as Rule["strategy"])}
				>
					<option value="round-robin">Round robin over the pool</option>
					<option value="least-loaded">The least loaded of the pool</option>
					<option value="fixed">Always the same person</option>
				</select>
			</div>
			{strategy === "fixed" ? (
				<div class={`field${p?.fieldError("fixedUserId") ? " field-invalid" : ""}`}>
					<label for="rule-fixed">Person</label>
					<select id="rule-fixed" value={fixed} onChange={e => setFixed((e.currentTarget as HTMLSelectElement).value)}>
						<option value="">Choose…</option>
						<Options words={memberChoices(session, members.data?.rows)} />
					</select>
					{p?.fieldError("fixedUserId") ? (
						<p class="field-error" role="alert">
							{p.fieldError("fixedUserId")}
						</p>
					) : null}
				</div>
			) : (
				<fieldset class={`field${poolError ? " field-invalid" : ""}`}>
					<legend>Pool</legend>
					{members.loading && !members.data ? <Loading /> : null}
					{(members.data?.rows ?? []).map(m => (
						<label key={m.userId} class="check">
							<input
								type="checkbox"
								checked={pool.includes(m.userId)}
								onChange={e => {
									const on = (e.currentTarget as HTMLInputElement).checked;
									setPool(list => (on ? [...list, m.userId] : list.filter(u => u !== m.userId)));
								}}
							/>{" "}
							{memberName(session, m.userId)}
						</label>
					))}
					{poolError ? (
						<p class="field-error" role="alert">
							{poolError}
						</p>
					) : null}
				</fieldset>
			)}
			<label class="check">
				<input type="checkbox" checked={enabled} onChange={e => setEnabled((e.currentTarget as HTMLInputElement).checked)} /> Enabled
			</label>
			<div class="toolbar">
				<button type="submit" disabled={save.busy}>
					{save.busy ? "Saving…" : "Save rule"}
				</button>
				<button type="button" class="secondary" onClick={() => onDone(null)}>
					Cancel
				</button>
			</div>
		</Form>
	);
}
