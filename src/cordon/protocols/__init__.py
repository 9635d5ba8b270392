"""Protocol packs: the public-health rules in force (contact definitions, quarantine schedules),
as versioned YAML data rather than code, so a deployment picks its edition."""
