// Parses answers of the Vercel emulator with the official @vercel/sdk's zod models, the way
// the SDK parses Vercel's real answers. Reads one JSON document per line from stdin:
// {"op": "filterProjectEnvs", "body": ...}; writes one line per document: {"ok": true} or
// {"ok": false, "issues": [...]}. Used by tests/test_vercel_sdk.py.
import { createInterface } from "node:readline";
import { FilterProjectEnvsResponseBody$inboundSchema } from "@vercel/sdk/models/filterprojectenvsop.js";
import { CreateProjectEnvResponseBody$inboundSchema } from "@vercel/sdk/models/createprojectenvop.js";
import { EditProjectEnvResponseBody$inboundSchema } from "@vercel/sdk/models/editprojectenvop.js";
import { RemoveProjectEnvResponseBody$inboundSchema } from "@vercel/sdk/models/removeprojectenvop.js";
import { BatchRemoveProjectEnvResponseBody$inboundSchema } from "@vercel/sdk/models/batchremoveprojectenvop.js";
import { GetProjectEnvResponseBody$inboundSchema } from "@vercel/sdk/models/getprojectenvop.js";

const schemas = {
  filterProjectEnvs: FilterProjectEnvsResponseBody$inboundSchema,
  createProjectEnv: CreateProjectEnvResponseBody$inboundSchema,
  editProjectEnv: EditProjectEnvResponseBody$inboundSchema,
  removeProjectEnv: RemoveProjectEnvResponseBody$inboundSchema,
  batchRemoveProjectEnv: BatchRemoveProjectEnvResponseBody$inboundSchema,
  getProjectEnv: GetProjectEnvResponseBody$inboundSchema,
};

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const { op, body } = JSON.parse(line);
  const schema = schemas[op];
  if (!schema) {
    console.log(JSON.stringify({ ok: false, issues: [`no schema for ${op}`] }));
    continue;
  }
  const parsed = schema.safeParse(body);
  const issues = parsed.success ? [] : flatten(parsed.error.issues);
  console.log(JSON.stringify({ ok: parsed.success, issues }));
}

// A union's failure says only "Invalid input": list what each alternative objected to.
function flatten(issues, prefix = "") {
  return issues.flatMap((issue) =>
    issue.unionErrors
      ? issue.unionErrors.flatMap((e, n) => flatten(e.issues, `${prefix}[alt ${n}] `))
      : [`${prefix}${issue.path.join(".")}: ${issue.message}`],
  );
}
