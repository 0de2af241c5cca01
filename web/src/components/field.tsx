/**
 * A labelled form control with its error beside it. The error comes from the problem the last submit
 * answered (`problem.fieldError(name)`, README "The gateway" → `errors[]` of a 422) or from `error`; inside a
 * `Form` the problem is the form's unless `problem` is given.
 *
 *   <Field label="E-mail" name="email" type="email" value={email} onInput={setEmail} problem={problem} autoComplete="email" required />
 */
import type { ComponentChildren } from "preact";
import { useId } from "preact/hooks";
import type { ApiProblem } from "../api";
import { useFormProblem } from "./form";

export interface FieldProps {
	label: string;
	/** the API's field name, as problem+json `errors[].field` names it */
	name: string;
	value: string;
	onInput(value: string): void;
	type?: "text" | "email" | "password" | "search" | "url" | "number" | "date" | "datetime-local" | "textarea";
	problem?: ApiProblem | null;
	error?: string;
	hint?: ComponentChildren;
	required?: boolean;
	autoComplete?: string;
	placeholder?: string;
	minLength?: number;
	maxLength?: number;
	autoFocus?: boolean;
}

export function Field(p: FieldProps) {
	const id = useId();
	const formProblem = useFormProblem();
	const error = p.error ?? (p.problem === undefined ? formProblem : p.problem)?.fieldError(p.name);
	const hintId = p.hint ? `${id}-hint` : undefined;
	const errorId = error ? `${id}-error` : undefined;
	const common = {
		id,
		name: p.name,
		value: p.value,
		required: p.required,
		placeholder: p.placeholder,
		maxLength: p.maxLength,
		autoFocus: p.autoFocus,
		"aria-invalid": error ? true : undefined,
		"aria-describedby": [hintId, errorId].filter(Boolean).join(" ") || undefined,
		onInput: (e: Event) => p.onInput((e.currentTarget as HTMLInputElement).value),
	};
	return (
		<div class={`field${error ? " field-invalid" : ""}`}>
			<label for={id}>
				{p.label}
				{p.required ? <span aria-hidden="true"> *</span> : null}
			</label>
			{p.type === "textarea" ? (
				<textarea {...common} rows={4} />
			) : (
				// the union of `type`s is one attribute to the DOM; Preact's types want each narrowed separately
				<input {...common} type={(p.type ?? "text") as "text"} autoComplete={p.autoComplete} minLength={p.minLength} />
			)}
			{p.hint ? (
				<p class="hint" id={hintId}>
					{p.hint}
				</p>
			) : null}
			{error ? (
				<p class="field-error" id={errorId} role="alert">
					{error}
				</p>
			) : null}
		</div>
	);
}

/** An account's e-mail (`email`, required): sign-in, registration, a forgotten password, an invitation. */
export function EmailField(p: Omit<FieldProps, "label" | "name" | "type" | "required">) {
	return <Field {...p} label="E-mail" name="email" type="email" required />;
}

/** An account's password (`password`, required); `label` "Password" unless given. */
export function PasswordField({ label = "Password", ...p }: Omit<FieldProps, "label" | "name" | "type" | "required"> & { label?: string }) {
	return <Field {...p} label={label} name="password" type="password" required />;
}
