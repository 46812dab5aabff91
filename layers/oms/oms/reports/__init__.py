"""Reports: the seller's order reports (columns, views as queries, paged reading, CSV, jobs) and the
pointers to Amazon's finished reports."""
