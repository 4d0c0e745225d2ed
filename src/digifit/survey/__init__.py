"""Survey collection: questionnaires (XLSForm), waves, invitations, submissions, exports, OpenRosa."""
