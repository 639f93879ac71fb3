#!/bin/sh
# Prisma CLI insists on a schema-engine binary path; generate/validate/format never run it.
echo "the native Prisma schema engine is not used here; see scripts/migrate.ts" >&2
exit 1
