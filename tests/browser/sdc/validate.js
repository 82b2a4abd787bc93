// Validate FHIR R4 resources with FHIR.js (npm "fhir"): read a JSON array of resources on
// stdin, print a JSON array of {valid, errors} in the same order. FHIR.js checks a resource
// against the R4 JSON schema but does not descend into Questionnaire/QuestionnaireResponse
// items, so the caller also sends each nested item wrapped in a resource of its own.
const { Fhir } = require("fhir");

const fhir = new Fhir();
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const results = JSON.parse(input).map((resource) => {
    const result = fhir.validate(resource, { errorOnUnexpected: true });
    return {
      valid: result.valid,
      errors: result.messages.filter((m) => m.severity === "error"),
    };
  });
  process.stdout.write(JSON.stringify(results));
});
