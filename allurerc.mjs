// Allure 3 config for the conformance HTML reports (fixtures/reporting/allure_html.py passes it
// with --config). Per-run paths come from the environment: `allure generate` has no flag for the
// history file or the categories, and would resolve relative paths against its cwd, not this file.
import { readFileSync } from "node:fs";

const categoriesFile = process.env.DC_ALLURE_CATEGORIES;

export default {
  // Unset means no trend: a manual run must not append to the suite's history by accident.
  historyPath: process.env.DC_ALLURE_HISTORY_PATH || undefined,
  // The awesome report ignores categories.json in the results dir (only the classic and allure2
  // plugins read it), but accepts the same Allure 2 rules here.
  categories: categoriesFile ? JSON.parse(readFileSync(categoriesFile, "utf8")) : undefined,
  plugins: {
    // Two instances of one plugin so a single read of the results yields both reports and
    // appends one history entry, not two.
    // The tree is grouped by the document's chapter (feature), then its claim (story), so an
    // auditor navigates by claim rather than by test file.
    awesome: {
      options: { reportLanguage: "en", theme: "light", groupBy: ["feature", "story"] },
    },
    single: {
      import: "@allurereport/plugin-awesome",
      options: { singleFile: true, reportLanguage: "en", theme: "light", groupBy: ["feature", "story"] },
    },
  },
};
