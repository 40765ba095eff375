"""Models, tables, figures and the report, fitted from the warehouse's marts."""
