"""Reports: the team report, the governors' summary, rendered to PDF off the web workers."""
