import type { ScreenProps } from "../../nav";
export default function Console(_: ScreenProps) {
	return <h1>Operator console</h1>;
}
