// Start GOV.UK Frontend's components on every page.
//
// The page is served with a Content-Security-Policy that forbids inline
// scripts, so the "JavaScript supported" class GOV.UK Frontend looks for is
// set here rather than in an inline snippet in base.html. Module scripts only
// run in browsers GOV.UK Frontend supports, so no further check is needed.
import { initAll } from "./govuk-frontend.min.js";

document.body.classList.add("govuk-frontend-supported");
initAll();
