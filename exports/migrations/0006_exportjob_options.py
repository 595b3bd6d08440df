from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('exports', '0005_exportjob_kind_choices_from_registry'),
    ]

    operations = [
        migrations.AddField(
            model_name='exportjob',
            name='options',
            field=models.JSONField(blank=True, default=dict, help_text='How the files are made: validation_ratio, redact_pii and tool_arguments.'),
        ),
    ]
