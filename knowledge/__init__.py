"""Everything the assistant knows: policies, laws, jobs, service stations, tickets."""
