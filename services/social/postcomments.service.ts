/** Comments on posts. Who may read or write them is decided by the posts service (the post's visibility). */
import type { Schema } from "../../lib/schema";
import { EdgeMixin } from "./edges";

const PostCommentsService: Schema = {
	name: "postcomments",
	mixins: [EdgeMixin({ collection: "social_comments", indexes: [{ fields: ["postId"] }] })],
};

export default PostCommentsService;
