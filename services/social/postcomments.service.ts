/** Comments on posts. Who may read or write them is decided by the posts service (the post's visibility). */
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { EdgeMixin } from "./edges";

const PostCommentsService: ServiceSchema<DbSettings> = {
	name: "postcomments",
	mixins: [EdgeMixin({ collection: "social_comments", indexes: [{ fields: ["postId"] }] })],
};

export default PostCommentsService;
