from tortoise import migrations
from tortoise.migrations import operations as ops

# One live invitation per address and scope, enforced by the database: two concurrent sends on
# PostgreSQL (READ COMMITTED) cannot both leave a pending row. Kept in step with services/platform/database.py.
ONE_PENDING = (
    "CREATE UNIQUE INDEX IF NOT EXISTS invitation_one_pending ON invitation (email, scope_key) "
    "WHERE state = 'pending'"
)


class Migration(migrations.Migration):
    dependencies = [("models", "0003_pending_sort_indexes")]

    initial = False

    operations = [ops.RunSQL(ONE_PENDING, reverse_sql="DROP INDEX IF EXISTS invitation_one_pending")]
