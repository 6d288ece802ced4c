"""Drug and alcohol testing: orders, random selection, collection, results, interpretation, lab imports."""
