from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('reviews', '0003_number_live_assignment_slots'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='assignment',
            constraint=models.UniqueConstraint(condition=models.Q(('state__in', ('reserved', 'claimed', 'submitted'))), fields=('item', 'slot'), name='assignment_one_live_per_slot'),
        ),
    ]
