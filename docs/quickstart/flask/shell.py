from myapp.models import MyModel, db

db.session.add(MyModel(title="Hello, Telegraphy"))
db.session.commit()
