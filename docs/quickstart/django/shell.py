from myapp.models import MyModel

MyModel.objects.create(title="Hello, Telegraphy")
