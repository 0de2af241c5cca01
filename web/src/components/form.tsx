/**
 * A form that submits in the page (no browser navigation) and shows what the API answered: the `problem` of
 * the last submit goes to every `Field` inside (its field errors beside the fields) and, with `fields`, to a
 * `ProblemBanner` above them that lists the rest (`head` comes before the banner, e.g. the form's heading).
 *
 *   <Form problem={save.problem} fields={["name"]} onSubmit={async () => (await save.run(name)).ok && done()} noValidate>
 *     <Field label="Name" name="name" value={name} onInput={setName} />
 *   </Form>
 */
import { createContext, type ComponentChildren, type FormHTMLAttributes, type TargetedSubmitEvent } from "preact";
import { useContext } from "preact/hooks";
import type { ApiProblem } from "../api";
import { ProblemBanner } from "./problem-banner";

const FormProblem = createContext<ApiProblem | null | undefined>(undefined);

/** The problem of the form around (for `Field`), or undefined outside a `Form`. */
export const useFormProblem = () => useContext(FormProblem);

export function Form({
	problem,
	fields,
	banner,
	head,
	onSubmit,
	children,
	...attrs
}: Omit<FormHTMLAttributes<HTMLFormElement>, "onSubmit"> & {
	/** the problem of the last submit, for the fields and the banner */
	problem?: ApiProblem | null;
	/** with it, a banner of the problem above the fields: the names the fields of this form show */
	fields?: string[];
	/** what the banner shows instead of `problem` (a problem the form explains in its own words) */
	banner?: ApiProblem | null;
	/** above the banner */
	head?: ComponentChildren;
	/** after `preventDefault()`; the event for a form that reads its own elements */
	onSubmit(e: TargetedSubmitEvent<HTMLFormElement>): unknown;
}) {
	return (
		<form
			{...attrs}
			onSubmit={e => {
				e.preventDefault();
				void onSubmit(e);
			}}
		>
			<FormProblem.Provider value={problem}>
				{head}
				{fields ? <ProblemBanner problem={banner === undefined ? problem : banner} fields={fields} /> : null}
				{children}
			</FormProblem.Provider>
		</form>
	);
}
