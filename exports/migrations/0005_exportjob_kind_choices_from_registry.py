import exports.formats
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('exports', '0004_webhook_endpoint_and_delivery'),
    ]

    operations = [
        migrations.AlterField(
            model_name='exportjob',
            name='kind',
            field=models.CharField(choices=exports.formats.kind_choices, default='both', max_length=16),
        ),
    ]
